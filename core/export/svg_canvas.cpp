#include "core/export/svg_canvas.h"

#include "core/export/chart_painter.h"

#include <cstdio>

namespace distillery {

namespace {
std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s;
}

std::string colour(uint32_t rgb) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%06x", rgb & 0xffffffu);
  return buf;
}

std::string strokeAttributes(const Stroke& s) {
  std::string a = " fill=\"none\" stroke=\"" + colour(s.rgb) + "\" stroke-width=\"" + num(s.width) + "\"";
  if (s.opacity < 1.0) a += " stroke-opacity=\"" + num(s.opacity) + "\"";
  if (s.dotted) a += " stroke-dasharray=\"1 1.6\"";
  else if (s.dashed) a += " stroke-dasharray=\"3 2\"";
  return a;
}

// Length of the UTF-8 sequence starting with byte c, 0 when c cannot start one.
int sequenceLength(unsigned char c) {
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return 2;
  if (c >= 0xE0 && c <= 0xEF) return 3;
  if (c >= 0xF0 && c <= 0xF4) return 4;
  return 0;
}
} // namespace

std::string escapeXml(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const int n = sequenceLength(c);
    bool valid = n > 0 && i + size_t(n) <= text.size();
    for (int k = 1; valid && k < n; ++k) valid = (static_cast<unsigned char>(text[i + size_t(k)]) & 0xC0) == 0x80;
    if (!valid) {
      out += "\xEF\xBF\xBD"; // U+FFFD
      ++i;
      continue;
    }
    if (n == 1) {
      switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      case '\t': case '\n': case '\r': out += ' '; break;
      default:
        if (c >= 0x20 && c != 0x7f) out += char(c);
      }
    } else {
      out.append(text, i, size_t(n));
    }
    i += size_t(n);
  }
  return out;
}

SvgCanvas::SvgCanvas(double width_pt, double height_pt, std::string id_prefix)
    : width_(width_pt), height_(height_pt), prefix_(std::move(id_prefix)) {}

double SvgCanvas::textWidth(const std::string& utf8, const TextStyle& style) {
  return estimatedTextWidth(utf8, style.size, style.bold);
}

void SvgCanvas::fillRect(const CanvasRect& r, uint32_t rgb, double opacity, CanvasRole role) {
  body_ << "<rect class=\"" << roleName(role) << "\" x=\"" << num(r.x) << "\" y=\"" << num(r.y) << "\" width=\""
        << num(r.w) << "\" height=\"" << num(r.h) << "\" fill=\"" << colour(rgb) << "\"";
  if (opacity < 1.0) body_ << " fill-opacity=\"" << num(opacity) << "\"";
  body_ << "/>\n";
}

void SvgCanvas::strokeRect(const CanvasRect& r, const Stroke& s, CanvasRole role) {
  body_ << "<rect class=\"" << roleName(role) << "\" x=\"" << num(r.x) << "\" y=\"" << num(r.y) << "\" width=\""
        << num(r.w) << "\" height=\"" << num(r.h) << "\"" << strokeAttributes(s) << "/>\n";
}

void SvgCanvas::line(CanvasPoint a, CanvasPoint b, const Stroke& s, CanvasRole role) {
  body_ << "<line class=\"" << roleName(role) << "\" x1=\"" << num(a.x) << "\" y1=\"" << num(a.y) << "\" x2=\""
        << num(b.x) << "\" y2=\"" << num(b.y) << "\"" << strokeAttributes(s) << "/>\n";
}

void SvgCanvas::path(const std::vector<std::vector<CanvasPoint>>& pieces, const Stroke& s, CanvasRole role,
                     int64_t run_id) {
  size_t n = 0;
  for (const auto& piece : pieces) n += piece.size();
  if (n == 0) return;
  body_ << "<path class=\"" << roleName(role) << "\"";
  if (run_id) body_ << " data-run=\"" << run_id << "\"";
  body_ << " d=\"";
  for (const auto& piece : pieces) {
    for (size_t i = 0; i < piece.size(); ++i)
      body_ << (i == 0 ? "M" : i == 1 ? "L" : " ") << num(piece[i].x) << " " << num(piece[i].y);
  }
  body_ << "\"" << strokeAttributes(s) << " stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n";
}

void SvgCanvas::dot(CanvasPoint c, double radius, uint32_t rgb, CanvasRole role, int64_t run_id) {
  body_ << "<circle class=\"" << roleName(role) << "\"";
  if (run_id) body_ << " data-run=\"" << run_id << "\"";
  body_ << " cx=\"" << num(c.x) << "\" cy=\"" << num(c.y) << "\" r=\"" << num(radius) << "\" fill=\"" << colour(rgb)
        << "\"/>\n";
}

void SvgCanvas::text(double x, double y, const std::string& utf8, const TextStyle& st, CanvasRole role) {
  const char* anchor = st.align == TextAlign::Left ? "start" : st.align == TextAlign::Center ? "middle" : "end";
  body_ << "<text class=\"" << roleName(role) << "\" x=\"" << num(x) << "\" y=\"" << num(y) << "\" font-size=\""
        << num(st.size) << "\"";
  if (st.bold) body_ << " font-weight=\"bold\"";
  if (st.align != TextAlign::Left) body_ << " text-anchor=\"" << anchor << "\"";
  if (st.rgb != 0) body_ << " fill=\"" << colour(st.rgb) << "\"";
  if (st.vertical) body_ << " transform=\"rotate(-90 " << num(x) << " " << num(y) << ")\"";
  body_ << ">" << escapeXml(utf8) << "</text>\n";
}

void SvgCanvas::pushClip(const CanvasRect& r) {
  const std::string id = prefix_ + "-clip" + std::to_string(++clips_);
  // Inside <defs>, so renderers without clipping (SVG Tiny, Qt's) do not paint the rectangle;
  // the chart painter clips curves itself as well.
  body_ << "<defs><clipPath id=\"" << id << "\"><rect x=\"" << num(r.x) << "\" y=\"" << num(r.y) << "\" width=\""
        << num(r.w) << "\" height=\"" << num(r.h) << "\"/></clipPath></defs>\n<g clip-path=\"url(#" << id << ")\">\n";
  ++open_groups_;
}

void SvgCanvas::popClip() {
  if (open_groups_ == 0) return;
  body_ << "</g>\n";
  --open_groups_;
}

std::string SvgCanvas::document(bool standalone) const {
  std::ostringstream out;
  if (standalone) out << "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n";
  out << "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" << num(width_) << "pt\" height=\""
      << num(height_) << "pt\" viewBox=\"0 0 " << num(width_) << " " << num(height_)
      << "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n";
  if (!title_.empty()) out << "<title>" << escapeXml(title_) << "</title>\n";
  out << body_.str();
  for (int i = 0; i < open_groups_; ++i) out << "</g>\n";
  out << "</svg>\n";
  return out.str();
}

std::string chartToSvg(const ChartSpec& spec, double width_in, double height_in, bool standalone,
                       const std::string& id_prefix) {
  ChartPaintOptions options;
  options.width_pt = width_in * 72.0;
  options.height_pt = height_in * 72.0;
  SvgCanvas canvas(options.width_pt, options.height_pt, id_prefix);
  canvas.setTitle(spec.title);
  paintChart(spec, canvas, options);
  return canvas.document(standalone);
}

} // namespace distillery
