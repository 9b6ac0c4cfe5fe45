#include "common/json.h"

#include <cmath>

namespace plugauth {
namespace {

// picojson's extension point for parsing: the default context with three
// more rules: an object key may appear once, arrays and objects nest at most
// kMaxDepth deep, and a number must be finite.
class StrictParseContext {
 public:
  StrictParseContext(picojson::value* out, int depth) : out_(out), depth_(depth) {}

  bool set_null() { *out_ = picojson::value(); return true; }
  bool set_bool(bool b) { *out_ = picojson::value(b); return true; }
  bool set_int64(int64_t i) { *out_ = picojson::value(static_cast<double>(i)); return true; }
  // picojson::value(double) throws on inf/NaN (what "1e400" parses to), and
  // picojson ignores this function's result, hence the flag.
  bool set_number(double f) {
    if (!std::isfinite(f)) {
      number_out_of_range = true;
      return false;
    }
    *out_ = picojson::value(f);
    return true;
  }
  template <typename Iter>
  bool parse_string(picojson::input<Iter>& in) {
    *out_ = picojson::value(picojson::string_type, false);
    return picojson::_parse_string(out_->get<std::string>(), in);
  }
  bool parse_array_start() {
    if (!enter_container()) return false;
    *out_ = picojson::value(picojson::array_type, false);
    return true;
  }
  template <typename Iter>
  bool parse_array_item(picojson::input<Iter>& in, size_t) {
    auto& a = out_->get<picojson::array>();
    a.emplace_back();
    StrictParseContext ctx(&a.back(), depth_ + 1);
    bool ok = picojson::_parse(ctx, in);
    propagate(ctx);
    return ok;
  }
  bool parse_array_stop(size_t) { return true; }
  bool parse_object_start() {
    if (!enter_container()) return false;
    *out_ = picojson::value(picojson::object_type, false);
    return true;
  }
  template <typename Iter>
  bool parse_object_item(picojson::input<Iter>& in, const std::string& key) {
    auto& o = out_->get<picojson::object>();
    if (o.count(key) != 0) {
      duplicate_key = true;
      return false;
    }
    StrictParseContext ctx(&o[key], depth_ + 1);
    bool ok = picojson::_parse(ctx, in);
    propagate(ctx);
    return ok;
  }
  bool parse_object_stop() { return true; }

  bool duplicate_key = false;
  bool too_deep = false;
  bool number_out_of_range = false;

 private:
  // picojson recurses once per nesting level; bound it so that a 64 KiB
  // body of "[[[[..." cannot exhaust a worker thread's stack. The top-level
  // value is at depth 0, so kMaxDepth containers may nest.
  static constexpr int kMaxDepth = 32;
  bool enter_container() {
    if (depth_ >= kMaxDepth) too_deep = true;
    return !too_deep;
  }
  void propagate(const StrictParseContext& child) {
    duplicate_key = duplicate_key || child.duplicate_key;
    too_deep = too_deep || child.too_deep;
    number_out_of_range = number_out_of_range || child.number_out_of_range;
  }
  picojson::value* out_;
  int depth_;
};

}  // namespace

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are invalid.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

std::string to_json(const picojson::value& v, bool pretty) {
  const std::string raw = v.serialize(pretty);
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size()) {
      if (raw[i + 1] != '/') out += raw[i];
      out += raw[++i];
    } else {
      out += raw[i];
    }
  }
  return out;
}

Result<picojson::value> parse_json_strict(std::string_view text) {
  if (!is_valid_utf8(text)) return make_error("JSON is not valid UTF-8");
  picojson::value v;
  StrictParseContext ctx(&v, 0);
  picojson::input<std::string_view::const_iterator> in(text.begin(), text.end());
  if (!picojson::_parse(ctx, in)) {
    if (ctx.duplicate_key) return make_error("JSON object has a duplicate key");
    if (ctx.too_deep) return make_error("JSON nested too deeply");
    return make_error("malformed JSON near line " + std::to_string(in.line()));
  }
  if (ctx.number_out_of_range) return make_error("JSON number out of range");
  in.skip_ws();
  if (in.getc() != -1) return make_error("trailing data after JSON value");
  return v;
}

}  // namespace plugauth
