#include "http/pages.h"

#include "common/escape.h"

namespace plugauth::pages {

const char* const kStylesheet = R"CSS(
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1d2330}
main{max-width:28rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:12px;box-shadow:0 1px 4px rgba(0,0,0,.08)}
h1{font-size:1.3rem;margin:0 0 1rem}
h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
p{margin:.5rem 0}
label{display:block;margin:.75rem 0 .25rem;font-weight:600}
input[type=text],input[type=password]{width:100%;padding:.6rem;border:1px solid #c5cad3;border-radius:8px;font-size:1rem}
button{padding:.65rem 1.1rem;border:0;border-radius:8px;font-size:1rem;cursor:pointer;background:#2759d8;color:#fff}
button.secondary{background:#e4e7ec;color:#1d2330}
.row{display:flex;gap:.75rem;margin-top:1.25rem;flex-wrap:wrap}
.error{background:#fdecec;color:#8a1c1c;padding:.6rem .8rem;border-radius:8px}
.warn{background:#fff5db;color:#6b4d00;padding:.6rem .8rem;border-radius:8px}
.muted{color:#5d6675;font-size:.9rem}
ul.scopes{padding-left:1.2rem}
code,.key{font-family:ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
.key{display:block;background:#eef1f6;padding:.6rem;border-radius:8px;margin:.5rem 0}
table{width:100%;border-collapse:collapse;font-size:.9rem}
td,th{text-align:left;padding:.35rem .25rem;border-bottom:1px solid #eceef2;vertical-align:top}
)CSS";

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
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

namespace {

// Text a stranger chose (a client's name), shown with its control characters
// and bidirectional overrides made visible as escapes: a U+202E in a name
// must not reverse the words around it on the consent page.
std::string shown(std::string_view s) { return escape(escape_for_log(s)); }

std::string layout(const std::string& title, const std::string& body) {
  return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
         "<meta name=\"referrer\" content=\"no-referrer\">"
         "<title>" + escape(title) + "</title><link rel=\"stylesheet\" href=\"/assets/plugauth.css\"></head>"
         "<body><main>" + body + "</main></body></html>";
}

std::string hidden_fields(const std::map<std::string, std::string>& hidden) {
  std::string out;
  for (const auto& [k, v] : hidden)
    out += "<input type=\"hidden\" name=\"" + escape(k) + "\" value=\"" + escape(v) + "\">";
  return out;
}

std::string client_line(const ClientView& c) {
  std::string out = "<p><strong>" + shown(c.name) + "</strong> <span class=\"muted\">(" + shown(c.client_id) +
                    ")</span></p><p class=\"muted\">After you answer you will be sent to <strong>" +
                    escape(c.redirect_host) + "</strong>.</p>";
  if (c.unverified)
    out += "<p class=\"warn\">This application registered itself and has not been verified by the operator of "
           "this server. Continue only if you trust <strong>" + escape(c.redirect_host) + "</strong>.</p>";
  return out;
}

}  // namespace

std::string error_page(const std::string& title, const std::string& message) {
  return layout(title, "<h1>" + escape(title) + "</h1><p class=\"error\">" + escape(message) +
                           "</p><p class=\"muted\">You can close this window.</p>");
}

std::string form_expired_page() {
  return error_page("Form expired",
                    "This form is missing its security token or it expired. Go back, reload the page and try again.");
}

const char* const kFormExpiredMessage =
    "This form expired or was not made for this browser, so nothing was done. Here is a fresh one.";

std::string repeated_cookie_page(const std::string& name) {
  return error_page("Conflicting cookies",
                    "Your browser sent the cookie \"" + name +
                        "\" twice, so this request was refused: another site may have planted one. Clear this "
                        "site's cookies in the browser, then try again.");
}

std::string login_page(const std::string& action, const std::map<std::string, std::string>& hidden,
                       const ClientView* client, const std::string& error) {
  std::string body = "<h1>Sign in</h1>";
  if (client) body += client_line(*client);
  if (!error.empty()) body += "<p class=\"error\" role=\"alert\">" + escape(error) + "</p>";
  body += "<form method=\"post\" action=\"" + escape(action) + "\">" + hidden_fields(hidden) +
          "<input type=\"hidden\" name=\"action\" value=\"login\">"
          "<label for=\"username\">User name</label>"
          "<input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\" autocapitalize=\"none\" "
          "required maxlength=\"64\">"
          "<label for=\"password\">Password</label>"
          "<input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required "
          "maxlength=\"1024\">"
          "<label for=\"totp\">Authenticator code <span class=\"muted\">(if you turned on two-step sign-in)</span>"
          "</label>"
          "<input type=\"text\" id=\"totp\" name=\"totp\" inputmode=\"numeric\" autocomplete=\"one-time-code\" "
          "pattern=\"[0-9]{6}\" maxlength=\"6\">"
          "<div class=\"row\"><button type=\"submit\">Sign in</button></div></form>";
  return layout("Sign in", body);
}

std::string consent_page(const std::string& action, const std::map<std::string, std::string>& hidden,
                         const ClientView& client, const std::string& username,
                         const std::vector<std::pair<std::string, std::string>>& scopes,
                         const std::string& message, bool stays_connected) {
  std::string body = "<h1>Allow access?</h1>";
  if (!message.empty()) body += "<p class=\"error\" role=\"alert\">" + escape(message) + "</p>";
  body += client_line(client) + "<p>Signed in as <strong>" + escape(username) + "</strong>.</p>";
  if (scopes.empty()) {
    body += "<p>It asks for no specific permissions: it will only learn who you are.</p>";
  } else {
    body += "<p>It will be able to:</p><ul class=\"scopes\">";
    for (const auto& [scope, words] : scopes)
      body += "<li>" + escape(words) + " <span class=\"muted\"><code>" + escape(scope) + "</code></span></li>";
    body += "</ul>";
  }
  if (stays_connected)
    body += "<p id=\"stays-connected\">It stays connected: it keeps this access when you are not using it. <span class=\"muted\"><code>offline_access</code>"
            "</span></p>";
  body += "<form method=\"post\" action=\"" + escape(action) + "\">" + hidden_fields(hidden) +
          "<div class=\"row\"><button type=\"submit\" name=\"action\" value=\"allow\">Allow</button>"
          "<button type=\"submit\" name=\"action\" value=\"deny\" class=\"secondary\">Deny</button></div></form>";
  return layout("Allow access", body);
}

namespace {

std::string code_field(const std::string& label, const std::string& id = "totp") {
  return "<label for=\"" + id + "\">" + escape(label) + "</label><input type=\"text\" id=\"" + id +
         "\" name=\"totp\" inputmode=\"numeric\" autocomplete=\"one-time-code\" pattern=\"[0-9]{6}\" "
         "maxlength=\"6\" required>";
}

// SPEC §8.16: the password asked again in the form of a sensitive action.
std::string password_field(const std::string& label, const std::string& id) {
  return "<label for=\"" + id + "\">" + escape(label) + "</label><input type=\"password\" id=\"" + id +
         "\" name=\"password\" autocomplete=\"current-password\" required>";
}

std::string two_step_section(const std::string& csrf_field, const TwoStepView& t) {
  std::string out = "<h2>Two-step sign-in</h2>";
  if (t.enabled) {
    return out + "<p id=\"two-step-state\">On: signing in asks for the code from your authenticator app.</p>"
                 "<form method=\"post\" action=\"/account\">" + csrf_field +
           "<input type=\"hidden\" name=\"action\" value=\"totp_disable\">" +
           password_field("Your password, to turn it off", "off-password") +
           code_field("Current code from your app") +
           "<div class=\"row\"><button type=\"submit\" class=\"secondary\">Turn off</button></div></form>";
  }
  if (!t.setup_token.empty()) {
    return out + "<p>Add this account to your authenticator app: type in the secret below, or open the link on "
                 "your phone. Then enter the code the app shows.</p>"
                 "<code class=\"key\" id=\"totp-secret\">" + escape(t.setup_secret) +
           "</code><p><a id=\"totp-uri\" href=\"" + escape(t.setup_uri) +
           "\">Open in authenticator app</a></p>"
           "<form method=\"post\" action=\"/account\">" + csrf_field +
           "<input type=\"hidden\" name=\"action\" value=\"totp_confirm\">"
           "<input type=\"hidden\" name=\"setup\" value=\"" + escape(t.setup_token) + "\">" +
           code_field("Code from the app") + password_field("Your password, to turn it on", "on-password") +
           "<div class=\"row\"><button type=\"submit\">Turn on</button></div></form>";
  }
  return out + "<p id=\"two-step-state\">Off: signing in needs only your password.</p>"
               "<form method=\"post\" action=\"/account\">" + csrf_field +
         "<input type=\"hidden\" name=\"action\" value=\"totp_start\">"
         "<div class=\"row\"><button type=\"submit\" class=\"secondary\">Set up two-step sign-in</button></div>"
         "</form>";
}

}  // namespace

std::string account_page(const std::string& username, const std::string& csrf, const std::vector<KeyView>& keys,
                         const std::string& new_key, const std::string& message, const TwoStepView& two_step,
                         bool key_needs_password) {
  std::string body = "<h1>Your API keys</h1><p>Signed in as <strong>" + escape(username) + "</strong>.</p>";
  if (!message.empty()) body += "<p class=\"warn\" role=\"status\">" + escape(message) + "</p>";
  if (!new_key.empty())
    body += "<p>Your new key — copy it now, it will not be shown again:</p><code class=\"key\" id=\"new-key\">" +
            escape(new_key) + "</code>";
  const std::string csrf_field = "<input type=\"hidden\" name=\"csrf\" value=\"" + escape(csrf) + "\">";
  body += "<form method=\"post\" action=\"/account\">" + csrf_field +
          "<input type=\"hidden\" name=\"action\" value=\"create\">"
          "<label for=\"name\">New key's label</label>"
          "<input type=\"text\" id=\"name\" name=\"name\" maxlength=\"128\" placeholder=\"e.g. ChatGPT\">" +
          (key_needs_password
               ? "<p class=\"muted\" id=\"key-asks-password\">You signed in more than 10 minutes ago: enter your "
                 "password again to create a key.</p>" +
                     password_field("Your password", "key-password") +
                     (two_step.enabled ? code_field("Current code from your app", "key-totp") : "")
               : std::string()) +
          "<div class=\"row\"><button type=\"submit\">Create key</button></div></form>";
  if (keys.empty()) {
    body += "<p class=\"muted\">You have no active keys.</p>";
  } else {
    body += "<table><tr><th>Key id</th><th>Label</th><th>Created</th><th>Last used</th><th></th></tr>";
    for (const auto& k : keys) {
      body += "<tr><td><code>" + escape(k.key_id) + "</code></td><td>" + escape(k.name) + "</td><td>" +
              escape(k.created) + "</td><td>" + escape(k.last_used) + "</td><td>"
              "<form method=\"post\" action=\"/account\">" + csrf_field +
              "<input type=\"hidden\" name=\"action\" value=\"revoke\"><input type=\"hidden\" name=\"key_id\" value=\"" +
              escape(k.key_id) + "\"><button type=\"submit\" class=\"secondary\">Revoke</button></form></td></tr>";
    }
    body += "</table>";
  }
  body += two_step_section(csrf_field, two_step);
  body += "<form method=\"post\" action=\"/account\">" + csrf_field +
          "<input type=\"hidden\" name=\"action\" value=\"logout\"><div class=\"row\">"
          "<button type=\"submit\" class=\"secondary\">Sign out</button></div></form>";
  return layout("Your API keys", body);
}

}  // namespace plugauth::pages
