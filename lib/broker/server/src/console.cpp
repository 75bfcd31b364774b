// The web console's dashboards (docs/broker.md, "Dashboards"): one HTML page per
// dashboard, rendered on the server with each widget's latest value, and a small script
// (no third-party JavaScript) that refreshes the widgets from the REST API every second
// and sends switch/slider commands through POST /v1/users/{account}/messages.

#include "console.hpp"

#include "broker_state.hpp"
#include "server.hpp"

#include <mqfleet/json_depth.hpp>
#include <mqfleet/store/bucket_database.hpp>

#include <nlohmann/json.hpp>

namespace mqfleet::broker {
namespace {

using Json = nlohmann::ordered_json;

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&#39;"; break;
    default: out += c;
    }
  }
  return out;
}

const Json* find_dotted(const Json& object, std::string_view dotted) {
  const Json* node = &object;
  for (;;) {
    if (!node->is_object()) return nullptr;
    const auto dot = dotted.find('.');
    auto it = node->find(std::string(dotted.substr(0, dot)));
    if (it == node->end()) return nullptr;
    if (dot == std::string_view::npos) return &*it;
    node = &*it;
    dotted.remove_prefix(dot + 1);
  }
}

std::string option(const Widget& widget, std::string_view key) {
  auto it = widget.options.find(key);
  return it == widget.options.end() ? std::string() : it->second;
}

/// The widget's field: `field`, else the first of `fields`.
std::string first_field(const Widget& widget) {
  auto field = option(widget, "field");
  if (!field.empty()) return field;
  field = option(widget, "fields");
  return field.substr(0, field.find(','));
}

/// The latest value of `field` in `bucket` as text ("" when there is none).
std::string latest_value(store::BucketDatabase* db, const std::string& bucket, const std::string& field) {
  if (db == nullptr || bucket.empty() || field.empty()) return {};
  // The newest point: the cursor runs oldest first, so start it at the newest ts.
  const auto stats = db->stats(bucket);
  if (!stats.last) return {};
  store::PointFilter filter;
  filter.from = *stats.last;
  auto cursor = db->points(bucket, filter);
  store::Point point;
  std::string latest;
  while (cursor.next(point)) {
    if (json_nesting_error(point.payload)) continue;
    const Json object = Json::parse(point.payload, nullptr, false);
    if (const Json* value = object.is_object() ? find_dotted(object, field) : nullptr)
      latest = value->is_string() ? value->get<std::string>() : value->dump();
  }
  return latest;
}

constexpr std::string_view k_style = R"css(
body{font-family:sans-serif;margin:1rem;background:#f4f5f7;color:#222}
h1{font-size:1.4rem}
.grid{display:flex;flex-wrap:wrap;gap:1rem}
.widget{background:#fff;border-radius:6px;padding:.8rem;box-shadow:0 1px 3px #0002;min-width:16rem}
.widget h2{font-size:1rem;margin:0 0 .5rem}
.big{font-size:2rem}
.bar{height:1rem;background:#ddd;border-radius:3px}.bar div{height:100%;background:#2a7;border-radius:3px}
.led{display:inline-block;width:1rem;height:1rem;border-radius:50%;background:#c33}.led.on{background:#2c4}
table{border-collapse:collapse;font-size:.85rem}td,th{padding:.1rem .4rem;border-bottom:1px solid #eee}
)css";

// Refreshes every widget once a second from the REST API (the cookie carries the token).
constexpr std::string_view k_script = R"js(
(function(){
const acct=document.body.dataset.account;
if(location.search.indexOf('token=')>=0)history.replaceState(null,'',location.pathname);
function dotted(o,f){for(const k of f.split('.')){if(o==null||typeof o!=='object')return undefined;o=o[k];}return o;}
function text(v){return typeof v==='string'?v:JSON.stringify(v);}
async function get(path){const r=await fetch(path,{credentials:'same-origin'});if(!r.ok)throw new Error(r.status);return r.json();}
function chart(svg,pts,fields){
  const W=320,H=120;let lo=Infinity,hi=-Infinity,t0=Infinity,t1=-Infinity;
  for(const p of pts){t0=Math.min(t0,p.ts);t1=Math.max(t1,p.ts);for(const f of fields){const v=dotted(p.val,f);if(typeof v==='number'){lo=Math.min(lo,v);hi=Math.max(hi,v);}}}
  if(!isFinite(lo)){svg.innerHTML='';return;}
  if(hi===lo){hi+=1;lo-=1;} if(t1===t0)t1=t0+1;
  const colors=['#2a7','#27c','#c72','#a2c'];let out='';
  fields.forEach((f,i)=>{const xy=pts.filter(p=>typeof dotted(p.val,f)==='number').map(p=>((p.ts-t0)/(t1-t0)*W).toFixed(1)+','+(H-(dotted(p.val,f)-lo)/(hi-lo)*H).toFixed(1)).join(' ');
    out+='<polyline fill="none" stroke="'+colors[i%4]+'" stroke-width="2" points="'+xy+'"/>';});
  svg.innerHTML=out;
}
async function refresh(w){
  const type=w.dataset.widget,bucket=w.dataset.bucket,field=w.dataset.field;
  if(type==='led'){const ds=await get('/v1/users/'+acct+'/devices');const d=ds.find(x=>x.id===w.dataset.device);
    const on=!!(d&&d.connected);w.dataset.latest=on?'online':'offline';w.querySelector('.led').classList.toggle('on',on);return;}
  if(!bucket)return;
  const n=w.dataset.items||100;
  let q='/v1/users/'+acct+'/buckets/'+encodeURIComponent(bucket)+'/data?sort=desc&items='+n;
  if(w.dataset.range)q+='&min_ts='+(Date.now()-Number(w.dataset.range));
  const pts=(await get(q)).reverse();
  if(!pts.length)return;
  const last=field?dotted(pts[pts.length-1].val,field):undefined;
  if(last!==undefined)w.dataset.latest=text(last);
  const out=w.querySelector('.out');
  if(type==='timeseries')chart(w.querySelector('svg'),pts,(w.dataset.fields||field).split(','));
  else if(type==='gauge'){const lo=Number(w.dataset.min||0),hi=Number(w.dataset.max||100);
    out.textContent=text(last);w.querySelector('.bar div').style.width=Math.max(0,Math.min(100,(last-lo)/(hi-lo)*100))+'%';}
  else if(type==='table'){out.innerHTML=pts.slice(-10).reverse().map(p=>'<tr><td>'+new Date(p.ts).toISOString()+'</td><td>'+p.device+'</td><td>'+text(field?dotted(p.val,field):p.val)+'</td></tr>').join('');}
  else if(out&&last!==undefined)out.textContent=text(last)+(w.dataset.unit?' '+w.dataset.unit:'');
}
function tick(){for(const w of document.querySelectorAll('[data-widget]'))refresh(w).catch(()=>{});}
for(const w of document.querySelectorAll('[data-widget=switch],[data-widget=slider]')){
  const input=w.querySelector('input');
  input.addEventListener('change',()=>{const payload=w.dataset.widget==='switch'?(input.checked?'on':'off'):input.value;
    fetch('/v1/users/'+acct+'/messages',{method:'POST',credentials:'same-origin',headers:{'Content-Type':'application/json'},
      body:JSON.stringify({topic:w.dataset.topic,payload:payload,qos:1})});});
}
tick();setInterval(tick,1000);
})();
)js";

/// One widget's element: data-widget, its options as data-*, and the latest value.
std::string render_widget(const Widget& widget, store::BucketDatabase* db) {
  const std::string bucket = option(widget, "bucket");
  const std::string field = first_field(widget);
  std::string html = "<section class=\"widget\" data-widget=\"" + html_escape(widget.type) + "\"";
  for (const auto& [key, value] : widget.options)
    if (key != "type") html += " data-" + html_escape(key) + "=\"" + html_escape(value) + "\"";
  if (widget.options.find("field") == widget.options.end() && !field.empty())
    html += " data-field=\"" + html_escape(field) + "\"";
  const std::string latest = latest_value(db, bucket, field);
  if (!latest.empty()) html += " data-latest=\"" + html_escape(latest) + "\"";
  html += ">";
  const std::string title = option(widget, "title");
  html += "<h2>" + html_escape(title.empty() ? (field.empty() ? widget.type : field) : title) + "</h2>";
  if (widget.type == "timeseries") {
    html += "<svg viewBox=\"0 0 320 120\" width=\"320\" height=\"120\"></svg>";
  } else if (widget.type == "gauge") {
    html += "<div class=\"out big\">" + html_escape(latest) + "</div><div class=\"bar\"><div style=\"width:0\"></div></div>";
  } else if (widget.type == "led") {
    html += "<span class=\"led\"></span> " + html_escape(option(widget, "device"));
  } else if (widget.type == "table") {
    html += "<table><thead><tr><th>ts</th><th>device</th><th>" + html_escape(field) +
            "</th></tr></thead><tbody class=\"out\"></tbody></table>";
  } else if (widget.type == "switch") {
    html += "<label><input type=\"checkbox\"> " + html_escape(option(widget, "topic")) + "</label>";
  } else if (widget.type == "slider") {
    const auto min = option(widget, "min");
    const auto max = option(widget, "max");
    html += "<input type=\"range\" min=\"" + html_escape(min.empty() ? "0" : min) + "\" max=\"" +
            html_escape(max.empty() ? "100" : max) + "\"> <span class=\"out\">" + html_escape(latest) + "</span>";
  } else {
    html += "<div class=\"out big\">" + html_escape(latest) + html_escape(option(widget, "unit").empty() ? "" : " " + option(widget, "unit")) + "</div>";
  }
  html += "</section>\n";
  return html;
}

} // namespace

std::optional<Dashboard> find_dashboard(const Account& account, std::string_view id) {
  if (auto it = account.dashboards.find(id); it != account.dashboards.end()) return it->second;
  // The default dashboard of a bucket without configuration: its fields over time.
  if (auto it = account.buckets.find(id); it != account.buckets.end()) {
    Dashboard dashboard{it->first, it->second.name.empty() ? it->first : it->second.name, {}};
    dashboard.widgets.push_back(Widget{"table", {{"bucket", it->first}}});
    return dashboard;
  }
  return std::nullopt;
}

std::string render_dashboard(Server& server, const std::string& account, const Dashboard& dashboard) {
  store::BucketDatabase* db = nullptr;
  thread_local std::unique_ptr<store::BucketDatabase> console_db;
  if (!server.config().data_dir.empty()) {
    if (!console_db) console_db = std::make_unique<store::BucketDatabase>(server.config().data_dir, false);
    db = console_db.get();
  }
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
                     html_escape(dashboard.title) + "</title><style>" + std::string(k_style) + "</style></head>\n";
  html += "<body data-account=\"" + html_escape(account) + "\"><h1>" + html_escape(dashboard.title) + "</h1>\n<div class=\"grid\">\n";
  for (const auto& widget : dashboard.widgets) html += render_widget(widget, db);
  html += "</div>\n<script>" + std::string(k_script) + "</script></body></html>\n";
  return html;
}

std::string login_page(std::string_view message) {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>mqfleet console</title></head><body>"
         "<h1>mqfleet console</h1><p>" +
         html_escape(message) +
         "</p><form method=\"get\"><label>Token <input name=\"token\" type=\"password\" autocomplete=\"off\"></label> "
         "<button>Open</button></form></body></html>\n";
}

} // namespace mqfleet::broker
