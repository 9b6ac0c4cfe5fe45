#include "auth/page_forms.h"

#include <sodium.h>

#include <stdexcept>

#include "auth/base64url.h"

namespace plugauth {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The two kinds of binding are MACed under different labels, so a session
// cookie's value copied into the pre-session cookie (or the reverse) does not
// carry its forms along.
std::string mac(const SecretKey& key, std::string_view label, std::string_view binding) {
  std::string input;
  input.reserve(label.size() + binding.size());
  input.append(label).append(binding);
  unsigned char out[32];
  if (crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(input.data()), input.size(),
                         key.data(), SecretKey::kSize) != 0)
    throw std::logic_error("crypto_generichash refused its parameters");
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(out), sizeof out));
}

}  // namespace

PageCookieNames page_cookie_names(std::string_view issuer) {
  if (issuer.rfind("https://", 0) == 0) return {"__Host-plugauth_session", "__Host-plugauth_csrf", true};
  return {"plugauth_session", "plugauth_csrf", false};
}

PageCookieReading read_page_cookies(const std::vector<std::string_view>& cookie_headers,
                                    const PageCookieNames& names) {
  PageCookieReading out;
  bool seen_session = false, seen_pre_session = false;
  for (std::string_view header : cookie_headers) {
    while (true) {
      const size_t end = header.find(';');
      std::string_view pair = header.substr(0, end);
      const size_t eq = pair.find('=');
      if (eq != std::string_view::npos) {
        const std::string_view name = trim(pair.substr(0, eq));
        const std::string_view value = trim(pair.substr(eq + 1));
        bool* seen = name == names.session ? &seen_session : name == names.pre_session ? &seen_pre_session : nullptr;
        if (seen) {
          if (*seen) return {std::string(name), {}};
          *seen = true;
          (name == names.session ? out.cookies.session : out.cookies.pre_session) = std::string(value);
        }
      }
      if (end == std::string_view::npos) break;
      header.remove_prefix(end + 1);
    }
  }
  return out;
}

std::string form_token(const PageCookies& cookies, const SecretKey& key) {
  if (cookies.session.size() >= kMinBindingLength) return mac(key, "session:", cookies.session);
  if (cookies.pre_session.size() >= kMinBindingLength) return mac(key, "pre-session:", cookies.pre_session);
  return "";
}

int FormCheck::status() const {
  switch (verdict) {
    case FormVerdict::Accept: return 200;
    case FormVerdict::RepeatedCookie: return 400;
    default: return 403;
  }
}

const char* FormCheck::reason() const {
  switch (verdict) {
    case FormVerdict::Accept: return "accepted";
    case FormVerdict::RepeatedCookie: return "a page cookie name is repeated";
    case FormVerdict::NoCookie: return "no page cookie to bind the form to";
    case FormVerdict::NoToken: return "the form has no token";
    case FormVerdict::TokenForAnotherCookie: return "the form was minted for another cookie";
  }
  return "refused";
}

FormCheck check_form(const std::vector<std::string_view>& cookie_headers, std::string_view presented_token,
                     const PageCookieNames& names, const SecretKey& key) {
  FormCheck check;
  auto reading = read_page_cookies(cookie_headers, names);
  if (!reading.repeated_name.empty()) {
    check.verdict = FormVerdict::RepeatedCookie;
    check.repeated_name = reading.repeated_name;
    return check;
  }
  check.cookies = std::move(reading.cookies);
  const std::string expected = form_token(check.cookies, key);
  if (expected.empty()) check.verdict = FormVerdict::NoCookie;
  else if (presented_token.empty()) check.verdict = FormVerdict::NoToken;
  else if (!constant_time_equal(expected, presented_token)) check.verdict = FormVerdict::TokenForAnotherCookie;
  else check.verdict = FormVerdict::Accept;
  return check;
}

bool needs_password(SensitiveAction action, int64_t password_entered_at, int64_t now) {
  switch (action) {
    case SensitiveAction::TurnTwoStepOn:
    case SensitiveAction::TurnTwoStepOff:
      return true;
    case SensitiveAction::CreateKey:
      return now < password_entered_at || now - password_entered_at > kRecentPasswordSeconds;
  }
  return true;
}

}  // namespace plugauth
