// palette.cpp — colour choices (see palette.h for the rules).
#include "pipelab_viz/palette.h"

#include <array>
#include <cmath>

namespace pipelab::viz {

Palette dark_palette() {
  Palette p;
  p.canvas = {24, 26, 31, 255};
  p.text = {235, 235, 235, 255};
  p.text_dim = {160, 165, 175, 255};
  p.grid = {58, 62, 72, 255};
  p.forward = {52, 120, 230, 255};
  p.backward = {46, 160, 80, 255};
  p.backward_input = {30, 170, 150, 255};
  p.backward_weight = {170, 160, 40, 255};
  p.recompute = {160, 80, 200, 255};
  p.optimizer = {150, 150, 150, 255};
  p.send = {240, 180, 30, 255};
  p.recv = {60, 200, 220, 255};
  p.lane = {36, 39, 46, 255};
  p.bubble = {84, 34, 38, 255};
  p.bubble_hatch = {150, 62, 64, 255};
  p.many_spans = {225, 225, 225, 255};  // neutral: lighter than every shade of F, B, R and the optimizer grey
  p.playhead = {255, 255, 255, 255};
  p.util_bar = {52, 120, 230, 255};
  p.util_track = {50, 54, 62, 255};
  p.error = {230, 80, 80, 255};
  p.outline_px = 1.0f;
  return p;
}

Palette presentation_palette() {
  Palette p;
  p.canvas = {255, 255, 255, 255};
  p.text = {0, 0, 0, 255};
  p.text_dim = {40, 40, 40, 255};
  p.grid = {170, 170, 170, 255};
  p.forward = {0, 80, 200, 255};
  p.backward = {0, 135, 55, 255};
  p.backward_input = {0, 140, 125, 255};
  p.backward_weight = {150, 130, 0, 255};
  p.recompute = {135, 30, 170, 255};
  p.optimizer = {90, 90, 90, 255};
  p.send = {225, 130, 0, 255};
  p.recv = {0, 140, 165, 255};
  p.lane = {238, 238, 238, 255};
  p.bubble = {255, 200, 200, 255};
  p.bubble_hatch = {200, 0, 0, 255};
  p.many_spans = {150, 150, 150, 255};  // neutral: between the optimizer grey and the lane
  p.playhead = {0, 0, 0, 255};
  p.util_bar = {120, 165, 240, 255};  // light enough for black text on it
  p.util_track = {220, 220, 220, 255};
  p.error = {200, 0, 0, 255};
  p.outline_px = 2.0f;
  return p;
}

Rgba action_fill(const Palette& palette, ActionKind kind, int microbatch, int microbatches) {
  Rgba base;
  switch (kind) {
    case ActionKind::Forward:
      base = palette.forward;
      break;
    case ActionKind::Backward:
      base = palette.backward;
      break;
    case ActionKind::Recompute:
      base = palette.recompute;
      break;
    case ActionKind::BackwardInput:
      base = palette.backward_input;
      break;
    case ActionKind::BackwardWeight:
      base = palette.backward_weight;
      break;
    case ActionKind::OptimizerStep:
      return palette.optimizer;
    case ActionKind::SendActivation:
    case ActionKind::SendGrad:
      return palette.send;
    case ActionKind::RecvActivation:
    case ActionKind::RecvGrad:
      return palette.recv;
    case ActionKind::AllReduceGrads:
      // Both a send and a receive on every device: halfway between their hues.
      return mix(palette.send, palette.recv, 0.5f);
  }
  // Up to 45% towards white for the last micro-batch: shades stay inside their hue.
  const float t =
      microbatches > 1 ? 0.45f * static_cast<float>(microbatch) / static_cast<float>(microbatches - 1) : 0.0f;
  return mix(base, Rgba{255, 255, 255, 255}, t);
}

Rgba action_outline(Rgba fill) { return mix(fill, Rgba{0, 0, 0, fill.a}, 0.45f); }

Rgba label_colour_on(Rgba background) {
  // Relative luminance (Rec. 709 weights on sRGB, close enough for a label choice).
  const double y = 0.2126 * background.r + 0.7152 * background.g + 0.0722 * background.b;
  return y > 150.0 ? Rgba{0, 0, 0, 255} : Rgba{255, 255, 255, 255};
}

Rgba device_colour(const Palette& palette, int device) {
  static constexpr std::array<Rgba, 8> kDark = {{{90, 160, 255, 255},
                                                 {255, 150, 60, 255},
                                                 {90, 210, 110, 255},
                                                 {240, 90, 110, 255},
                                                 {190, 130, 255, 255},
                                                 {240, 220, 70, 255},
                                                 {80, 220, 220, 255},
                                                 {230, 130, 200, 255}}};
  static constexpr std::array<Rgba, 8> kLight = {{{0, 70, 200, 255},
                                                  {220, 100, 0, 255},
                                                  {0, 140, 40, 255},
                                                  {200, 0, 40, 255},
                                                  {120, 40, 200, 255},
                                                  {150, 130, 0, 255},
                                                  {0, 140, 150, 255},
                                                  {190, 0, 140, 255}}};
  const auto& table = palette.canvas.r > 128 ? kLight : kDark;
  return table[static_cast<std::size_t>(device) % table.size()];
}

float hatch_phase(Vec2 p, Vec2 origin, float spacing) {
  const float v = std::fmod((p.x - origin.x) + (p.y - origin.y), spacing);
  return v < 0 ? v + spacing : v;
}

}  // namespace pipelab::viz
