// Server-rendered HTML for /authorize and /account: no JavaScript, one small
// stylesheet, readable on a phone. Every value is HTML-escaped here.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace plugauth::pages {

std::string escape(std::string_view s);

extern const char* const kStylesheet;

struct ClientView {
  std::string name;
  std::string client_id;
  std::string redirect_host;
  bool unverified = false;  // dynamically registered or metadata-document client
};

std::string error_page(const std::string& title, const std::string& message);
// A POST whose CSRF token is missing or wrong, when no fresh form can be shown.
std::string form_expired_page();
// What a page says above the fresh form that replaces a refused one.
extern const char* const kFormExpiredMessage;
// A request that carried the page cookie `name` twice (SPEC §8.8).
std::string repeated_cookie_page(const std::string& name);

// Sign-in form posting to `action` with the hidden fields (CSRF included).
std::string login_page(const std::string& action, const std::map<std::string, std::string>& hidden,
                       const ClientView* client, const std::string& error);

// scope → sentence, in the order shown.
std::string consent_page(const std::string& action, const std::map<std::string, std::string>& hidden,
                         const ClientView& client, const std::string& username,
                         const std::vector<std::pair<std::string, std::string>>& scopes,
                         const std::string& message = "", bool stays_connected = false);

struct KeyView {
  std::string key_id;
  std::string name;
  std::string scope;
  std::string created;
  std::string last_used;
  std::string expires;
};

// Two-step sign-in on the account page: on, off, or being set up (then the
// secret to type into the app, its otpauth link and the sealed form of it
// that the confirming POST carries back).
struct TwoStepView {
  bool enabled = false;
  std::string setup_secret;
  std::string setup_uri;
  std::string setup_token;
};

// `key_needs_password`: the create-key form asks for the password (and code)
// again (SPEC §8.16); the two-step forms always do.
std::string account_page(const std::string& username, const std::string& csrf, const std::vector<KeyView>& keys,
                         const std::string& new_key, const std::string& message, const TwoStepView& two_step,
                         bool key_needs_password);

}  // namespace plugauth::pages
