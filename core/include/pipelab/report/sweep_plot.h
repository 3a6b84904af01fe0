// pipelab/report/sweep_plot.h — `pipelab sweep --plot FILE.svg`: the sweep as a picture.
//
// Two panels against M (log2 axis): the measured speedup over naive and the measured
// bubble, each as points beside the run's theory curve (the registry's formula for the
// sweep's schedule and options, labelled "theory (<name>)"). Written by hand, no
// library: axes, ticks, a legend per panel. Every plotted element carries its numbers
// in data attributes, so a test can read them back and map them through the axes:
//   <g class="panel" data-quantity="speedup" data-x0 data-y0 data-width data-height
//      data-m-min data-m-max data-value-min data-value-max>  (plot area, px; axis ranges)
//   <circle class="measured" data-m="8" data-value="2.909..." cx cy>
//   <polyline class="theory" data-m="1 2 3 ..." data-value="1 1.6 ..." points="x,y ...">
// x = x0 + width·log2(M / m_min)/log2(m_max / m_min); y = y0 + height·(1 − (v − v_min)/(v_max − v_min)).
// The bubble is plotted in percent (its data-value is the fraction · 100).
#pragma once

#include <string>
#include <vector>

#include "pipelab/runtime/run.h"

namespace pipelab {

/// The SVG document of a sweep (run_sweep(): runs[0] is the naive baseline, the rest
/// GPipe once per M). Throws pipelab::Error when there is no GPipe run to plot.
std::string sweep_plot_svg(const std::vector<RunResult>& runs);

}  // namespace pipelab
