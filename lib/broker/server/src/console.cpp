// The web console's dashboards (docs/broker.md, "Dashboards"): one HTML page per
// dashboard, rendered on the server with each widget's latest value, and a script that
// loads each widget's history from the REST API, applies the points pushed over the
// live WebSocket (/console/{account}/live, http_transport.cpp and live_hub.cpp), draws
// timeseries with Chart.js (Debian's libjs-chart.js, embedded: chart_js()) and maps as
// an SVG plot without tiles, and sends switch/slider commands through
// POST /v1/users/{account}/messages.

#include "console.hpp"

#include "broker_state.hpp"
#include "server.hpp"

#include <mqfleet/json_depth.hpp>
#include <mqfleet/store/time_format.hpp>
#include <mqfleet/time_parse.hpp>
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

// The page's script: history from the REST API, new points pushed over the live
// WebSocket (polling each second only while it is down), Chart.js for timeseries, an SVG
// plot for maps, and the switch/slider commands through POST …/messages.
constexpr std::string_view k_script = R"js(
(function(){
const body=document.body,acct=body.dataset.account;
if(location.search.indexOf('token=')>=0)history.replaceState(null,'',location.pathname);
const api='/v1/users/'+encodeURIComponent(acct);
function dotted(o,f){for(const k of f.split('.')){if(o==null||typeof o!=='object')return undefined;o=o[k];}return o;}
function text(v){return typeof v==='string'?v:JSON.stringify(v);}
function esc(s){return String(s).replace(/[&<>"']/g,c=>'&#'+c.charCodeAt(0)+';');}
async function get(path){const r=await fetch(path,{credentials:'same-origin'});if(!r.ok)throw new Error(r.status);return r.json();}
const widgets=[...document.querySelectorAll('[data-widget]')];
const fed=widgets.filter(w=>w.dataset.bucket&&w.dataset.widget!=='switch');
const colors=['#2a7','#27c','#c72','#a2c','#c33','#777'];
function fieldsOf(w){return (w.dataset.fields||w.dataset.field||'').split(',').filter(Boolean);}
// The widget's time frame: latest N (items), relative (range-ms), absolute (min-ts/max-ts).
function trim(w){
  const n=Number(w.dataset.items||100);
  if(w.dataset.rangeMs){const lo=Date.now()-Number(w.dataset.rangeMs);w._pts=w._pts.filter(p=>p.ts>=lo);}
  if(w._pts.length>n)w._pts=w._pts.slice(w._pts.length-n);
}
function merge(w,pts){
  // The same point can come twice (history fetched while it was pushed): equal ts,
  // device and value. Distinct points may share a millisecond.
  const key=p=>p.ts+'|'+p.device+'|'+JSON.stringify(p.val);
  const seen=new Set(w._pts.map(key));
  for(const p of pts){
    if(w.dataset.device&&p.device!==w.dataset.device)continue;
    if(w.dataset.minTs&&p.ts<Number(w.dataset.minTs))continue;
    if(w.dataset.maxTs&&p.ts>Number(w.dataset.maxTs))continue;
    const k=key(p);if(seen.has(k))continue;seen.add(k);w._pts.push(p);
  }
  w._pts.sort((a,b)=>a.ts-b.ts);trim(w);
}
function timeLabel(ms){const d=new Date(ms);return d.toLocaleTimeString([], {hour12:false});}
function drawChart(w){
  const canvas=w.querySelector('canvas');const fields=fieldsOf(w);
  const sets=fields.map((f,i)=>({label:f,borderColor:colors[i%colors.length],backgroundColor:colors[i%colors.length],
    pointRadius:0,borderWidth:2,data:w._pts.filter(p=>typeof dotted(p.val,f)==='number').map(p=>({x:p.ts,y:dotted(p.val,f)}))}));
  if(typeof Chart==='undefined')return;
  if(!w._chart){w._chart=new Chart(canvas,{type:'line',data:{datasets:sets},options:{animation:false,parsing:false,
      responsive:false,scales:{x:{type:'linear',ticks:{maxTicksLimit:6,callback:v=>timeLabel(v)}}},
      plugins:{legend:{display:fields.length>1},tooltip:{callbacks:{title:i=>i.length?new Date(i[0].parsed.x).toISOString():''}}}}});}
  else{w._chart.data.datasets=sets;w._chart.update('none');}
}
// Positions without map tiles: the track of each device in an equirectangular plot.
function drawMap(w,field){
  const svg=w.querySelector('svg');const W=320,H=200,pad=12;
  const tracks={};let la0=Infinity,la1=-Infinity,lo0=Infinity,lo1=-Infinity;
  for(const p of w._pts){const v=dotted(p.val,field);if(!v||typeof v.lat!=='number'||typeof v.lon!=='number')continue;
    (tracks[p.device]=tracks[p.device]||[]).push(v);la0=Math.min(la0,v.lat);la1=Math.max(la1,v.lat);lo0=Math.min(lo0,v.lon);lo1=Math.max(lo1,v.lon);}
  if(!isFinite(la0)){svg.innerHTML='';return;}
  const k=Math.cos((la0+la1)/2*Math.PI/180)||1;let sx=(lo1-lo0)*k,sy=la1-la0;if(sx<1e-6)sx=1e-6;if(sy<1e-6)sy=1e-6;
  const s=Math.min((W-2*pad)/sx,(H-2*pad)/sy);
  const X=v=>(pad+(v.lon-lo0)*k*s).toFixed(1),Y=v=>(H-pad-(v.lat-la0)*s).toFixed(1);
  let out='<rect width="'+W+'" height="'+H+'" fill="#eef3f7"/>';
  Object.keys(tracks).forEach((d,i)=>{const t=tracks[d],c=colors[i%colors.length],last=t[t.length-1];
    out+='<polyline fill="none" stroke="'+c+'" stroke-width="2" points="'+t.map(v=>X(v)+','+Y(v)).join(' ')+'"/>';
    out+='<circle r="5" fill="'+c+'" cx="'+X(last)+'" cy="'+Y(last)+'"><title>'+esc(d)+' '+last.lat+', '+last.lon+'</title></circle>';});
  out+='<text x="4" y="'+(H-2)+'" font-size="9">'+la0.toFixed(4)+', '+lo0.toFixed(4)+'</text><text x="'+(W-4)+'" y="10" font-size="9" text-anchor="end">'+la1.toFixed(4)+', '+lo1.toFixed(4)+'</text>';
  svg.innerHTML=out;
}
function render(w){
  const type=w.dataset.widget,field=w.dataset.field,pts=w._pts;
  if(!pts.length)return;
  const last=field?dotted(pts[pts.length-1].val,field):undefined;
  if(last!==undefined)w.dataset.latest=text(last);
  const out=w.querySelector('.out');
  if(type==='timeseries')drawChart(w);
  else if(type==='map')drawMap(w,field);
  else if(type==='gauge'){const lo=Number(w.dataset.min||0),hi=Number(w.dataset.max||100);
    out.textContent=text(last);w.querySelector('.bar div').style.width=Math.max(0,Math.min(100,(last-lo)/(hi-lo)*100))+'%';}
  else if(type==='table'){out.innerHTML=pts.slice(-10).reverse().map(p=>'<tr><td>'+new Date(p.ts).toISOString()+'</td><td>'+esc(p.device)+'</td><td>'+esc(text(field?dotted(p.val,field):p.val))+'</td></tr>').join('');}
  else if(out&&last!==undefined)out.textContent=text(last)+(w.dataset.unit?' '+w.dataset.unit:'');
}
async function load(w){
  let q=api+'/buckets/'+encodeURIComponent(w.dataset.bucket)+'/data?sort=desc&items='+Math.min(1000,Number(w.dataset.items||100));
  if(w.dataset.rangeMs)q+='&min_ts='+(Date.now()-Number(w.dataset.rangeMs));
  if(w.dataset.minTs)q+='&min_ts='+w.dataset.minTs;
  if(w.dataset.maxTs)q+='&max_ts='+w.dataset.maxTs;
  if(w.dataset.device)q+='&device='+encodeURIComponent(w.dataset.device);
  merge(w,(await get(q)).reverse());render(w);
}
async function leds(){
  const ls=widgets.filter(w=>w.dataset.widget==='led');if(!ls.length)return;
  const ds=await get(api+'/devices');
  for(const w of ls){const d=ds.find(x=>x.id===w.dataset.device);const on=!!(d&&d.connected);
    w.dataset.latest=on?'online':'offline';w.querySelector('.led').classList.toggle('on',on);
    const seen=w.querySelector('.seen');if(seen)seen.textContent=d&&d.last_seen?'last seen '+new Date(d.last_seen).toISOString():'never seen';}
}
function loadAll(){for(const w of fed){w._pts=w._pts||[];load(w).catch(()=>{});}}
// New points are pushed over the WebSocket /console/{account}/live (the cookie
// authenticates it); while it is down the page polls the REST API each second.
let poll=null,pushed=0;
function polling(on){if(on&&!poll)poll=setInterval(loadAll,1000);if(!on&&poll){clearInterval(poll);poll=null;}}
function live(){
  const ws=new WebSocket((location.protocol==='https:'?'wss://':'ws://')+location.host+'/console/'+encodeURIComponent(acct)+'/live');
  let opened=false;
  ws.onopen=()=>{opened=true;body.dataset.transport='websocket';polling(false);loadAll();};
  ws.onmessage=e=>{let m;try{m=JSON.parse(e.data);}catch(_){return;}
    if(m.reload){loadAll();return;}
    const touched=new Set();
    for(const w of fed){const mine=(m.points||[]).filter(p=>p.bucket===w.dataset.bucket);if(mine.length){merge(w,mine);touched.add(w);}}
    for(const w of touched)render(w);
    pushed+=(m.points||[]).length;body.dataset.pushed=pushed;};
  ws.onclose=()=>{body.dataset.transport='polling';polling(true);setTimeout(live,opened?1000:5000);};
}
for(const w of fed)w._pts=[];
for(const w of widgets.filter(w=>w.dataset.widget==='switch'||w.dataset.widget==='slider')){
  const input=w.querySelector('input');
  input.addEventListener('change',()=>{let payload=w.dataset.widget==='switch'?(input.checked?'on':'off'):input.value;
    if(w.dataset.widget==='slider'){const out=w.querySelector('.out');if(out)out.textContent=input.value;}
    if(w.dataset.key){const o={id:Date.now()};o[w.dataset.key]=Number(input.value);payload=JSON.stringify(o);}
    fetch(api+'/messages',{method:'POST',credentials:'same-origin',headers:{'Content-Type':'application/json'},
      body:JSON.stringify({topic:w.dataset.topic,payload:payload,qos:1})}).then(r=>{w.dataset.sent=r.ok?payload:'error '+r.status;});});
}
loadAll();leds().catch(()=>{});setInterval(()=>leds().catch(()=>{}),2000);
if(window.WebSocket)live();else polling(true);
})();
)js";

/// A time argument (time_parse.hpp) as epoch ms; `relative_to` is "now" for relative ones.
std::optional<std::int64_t> widget_time(const std::string& text, std::int64_t relative_to) {
  if (text.empty()) return std::nullopt;
  return parse_time(text, relative_to);
}

/// The widget's time frame as data attributes for the script: `items` (latest N) stays as
/// given; `range` (relative: `15m`, `-1h`, `2d`, or milliseconds) becomes data-range-ms;
/// `from`/`to` (absolute: ISO-8601 or epoch ms) become data-min-ts/data-max-ts.
std::string time_frame(const Widget& widget) {
  std::string out;
  std::string range = option(widget, "range");
  if (!range.empty()) {
    if (range.front() == '-' || range.front() == '+') range.erase(0, 1);
    std::optional<std::int64_t> ms;
    if (range.find_first_not_of("0123456789") == std::string::npos) ms = mqfleet::detail::parse_integer(range);
    else if (auto back = parse_time("-" + range, 0)) ms = -*back;
    if (ms && *ms > 0) out += " data-range-ms=\"" + std::to_string(*ms) + "\"";
  }
  const auto now = store::now_ms();
  if (auto from = widget_time(option(widget, "from"), now)) out += " data-min-ts=\"" + std::to_string(*from) + "\"";
  if (auto to = widget_time(option(widget, "to"), now)) out += " data-max-ts=\"" + std::to_string(*to) + "\"";
  return out;
}

/// One widget's element: data-widget, its options as data-*, and the latest value.
std::string render_widget(const Widget& widget, store::BucketDatabase* db, const Account* account) {
  const std::string bucket = option(widget, "bucket");
  const std::string field = first_field(widget);
  std::string html = "<section class=\"widget\" data-widget=\"" + html_escape(widget.type) + "\"";
  for (const auto& [key, value] : widget.options)
    if (key != "type") html += " data-" + html_escape(key) + "=\"" + html_escape(value) + "\"";
  if (widget.options.find("field") == widget.options.end() && !field.empty())
    html += " data-field=\"" + html_escape(field) + "\"";
  html += time_frame(widget);
  // Only the account's own buckets: a widget naming another account's bucket stays empty.
  const bool own = account != nullptr && account->buckets.contains(bucket);
  const std::string latest = own ? latest_value(db, bucket, field) : std::string();
  if (!latest.empty()) html += " data-latest=\"" + html_escape(latest) + "\"";
  html += ">";
  const std::string title = option(widget, "title");
  html += "<h2>" + html_escape(title.empty() ? (field.empty() ? widget.type : field) : title) + "</h2>";
  if (widget.type == "timeseries") {
    html += "<canvas width=\"360\" height=\"170\"></canvas>";
  } else if (widget.type == "map") {
    html += "<svg viewBox=\"0 0 320 200\" width=\"320\" height=\"200\" role=\"img\"></svg>";
  } else if (widget.type == "gauge") {
    html += "<div class=\"out big\">" + html_escape(latest) + "</div><div class=\"bar\"><div style=\"width:0\"></div></div>";
  } else if (widget.type == "led") {
    html += "<span class=\"led\"></span> " + html_escape(option(widget, "device")) + " <small class=\"seen\"></small>";
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
  const RegistryPtr registry = server.state().registry();
  const Account* owner = registry->find_account(account);
  for (const auto& widget : dashboard.widgets) html += render_widget(widget, db, owner);
  html += "</div>\n";
  for (const auto& widget : dashboard.widgets) {
    if (widget.type == "timeseries") {
      html += "<script src=\"/console/assets/chart.js\"></script>\n";
      break;
    }
  }
  html += "<script>" + std::string(k_script) + "</script></body></html>\n";
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
