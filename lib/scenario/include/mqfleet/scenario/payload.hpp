#pragma once
// A payload template: a JSON value whose leaves are constants, string templates
// ("{device}", "{request.id}") or generators, rendered to a JSON text per message.

#include <mqfleet/scenario/generators.hpp>
#include <mqfleet/scenario/template.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mqfleet::sim {

/// A compiled payload template.
class PayloadTemplate {
public:
  PayloadTemplate() = default;

  /// Compiles a payload from JSON text (comments allowed). `field_names` are the device
  /// fields {"ref": ...} may use. A top-level string is sent as raw text unless
  /// `string_as_json`. Throws ScenarioError listing every problem.
  static PayloadTemplate parse(std::string_view json_text, const TemplateScope& scope,
                               const std::vector<std::string>& field_names = {}, bool string_as_json = false);

  /// Number of generators, i.e. of GeneratorState entries a device needs.
  std::size_t generator_count() const noexcept { return m_generators.size(); }
  /// Fresh per-device state, seeded from (seed, device fleet and index, stream).
  std::vector<GeneratorState> make_state(std::uint64_t seed, const DeviceState& device, std::uint64_t stream) const;
  /// Renders one payload, advancing the generators' state.
  std::string render(std::vector<GeneratorState>& state, const RenderContext& context,
                     const RequestFields* request = nullptr) const;
  /// True when nothing varies between renders (no generators, templates or refs).
  bool is_constant() const noexcept;

  /// One step of the rendering program; public so the loader can build templates.
  struct Op {
    enum class Kind { literal, generator, string_template, raw_template, request_json, field };
    Kind kind = Kind::literal;
    std::string text;      ///< literal JSON text, or the request field path
    std::size_t index = 0; ///< generator slot or device field slot
    Template templ;
  };

  /// Appends an op, merging adjacent literals.
  void append(Op op);
  /// Adds a generator and returns its slot.
  std::size_t add_generator(std::shared_ptr<const Generator> generator);

private:
  std::vector<Op> m_ops;
  std::vector<std::shared_ptr<const Generator>> m_generators;
};

} // namespace mqfleet::sim
