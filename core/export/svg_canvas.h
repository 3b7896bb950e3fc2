#pragma once
// A ChartCanvas that writes SVG 1.1 text, with no library behind it, so
// distillery-cli can export vector charts even where Qt is missing. Each
// element carries its role as class ("curve", "raw-curve", "legend", ...):
// one <path class="curve"> per run, checkable by a test or a script.
#include "core/export/chart_canvas.h"
#include "core/export/chart_spec.h"

#include <sstream>
#include <string>

namespace distillery {

class SvgCanvas : public ChartCanvas {
public:
  // id_prefix keeps clip-path ids unique when several charts share one HTML page.
  SvgCanvas(double width_pt, double height_pt, std::string id_prefix = "chart");

  double textWidth(const std::string& utf8, const TextStyle& style) override;
  void fillRect(const CanvasRect& rect, uint32_t rgb, double opacity, CanvasRole role) override;
  void strokeRect(const CanvasRect& rect, const Stroke& stroke, CanvasRole role) override;
  void line(CanvasPoint a, CanvasPoint b, const Stroke& stroke, CanvasRole role) override;
  void path(const std::vector<std::vector<CanvasPoint>>& pieces, const Stroke& stroke, CanvasRole role,
            int64_t run_id) override;
  void dot(CanvasPoint centre, double radius, uint32_t rgb, CanvasRole role, int64_t run_id) override;
  void text(double x, double y, const std::string& utf8, const TextStyle& style, CanvasRole role) override;
  void pushClip(const CanvasRect& rect) override;
  void popClip() override;

  // For screen readers and file browsers: the document's <title>.
  void setTitle(const std::string& title) { title_ = title; }
  // The complete document (with the XML declaration when standalone is true;
  // without it for inlining into HTML).
  std::string document(bool standalone = true) const;

private:
  double width_, height_;
  std::string prefix_;
  std::string title_;
  std::ostringstream body_;
  int clips_ = 0;
  int open_groups_ = 0;
};

// Text safe inside XML: invalid UTF-8 becomes U+FFFD, control characters
// (which XML 1.0 forbids) are dropped, & < > " ' become entities.
std::string escapeXml(const std::string& text);

// A chart as a standalone SVG document of that physical size.
std::string chartToSvg(const ChartSpec& spec, double width_in, double height_in, bool standalone = true,
                       const std::string& id_prefix = "chart");

} // namespace distillery
