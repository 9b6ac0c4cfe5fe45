#include "cli/cli.h"

#include "common/json.h"

#include <algorithm>
#include <iostream>
#include <optional>
#include <utility>

namespace plugauth::cli {
namespace {

const std::vector<OptionSpec>& global_options() {
  static const std::vector<OptionSpec> all = {
      {"data", "DIR",
       "data directory (else $PLUGAUTH_DATA, $STATE_DIRECTORY, ./plugauth-data or /var/lib/plugauth, the first "
       "that is set or exists)"},
      {"config", "FILE", "config file (default: <data>/plugauth.json)"},
      {"json", "", "print one JSON document on stdout"},
      {"help", "", "show this help"},
  };
  return all;
}

std::string join(const std::vector<std::string>& v, const std::string& sep = " ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

bool starts_with(const std::vector<std::string>& words, const std::vector<std::string>& prefix) {
  return words.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), words.begin());
}

const OptionSpec* find_option(const CommandSpec& spec, const std::string& name) {
  for (const auto& o : spec.options)
    if (o.name == name) return &o;
  for (const auto& o : global_options())
    if (o.name == name) return &o;
  return nullptr;
}

}  // namespace

std::string Invocation::get(const std::string& name, const std::string& fallback) const {
  auto it = options.find(name);
  return it == options.end() || it->second.empty() ? fallback : it->second.back();
}

const std::vector<std::string>& Invocation::all(const std::string& name) const {
  static const std::vector<std::string> none;
  auto it = options.find(name);
  return it == options.end() ? none : it->second;
}

void Cli::add(CommandSpec spec) { commands_.push_back(std::move(spec)); }

void Cli::print_overview(std::ostream& os) const {
  os << "plugauth: the authentication daemon for AI plugins, GPT Actions and MCP servers\n\n"
        "usage: plugauth COMMAND [ARGS] [--data DIR] [--config FILE] [--json]\n\ncommands:\n";
  for (const auto& c : commands_) {
    std::string head = join(c.words) + (c.args_usage.empty() ? "" : " " + c.args_usage);
    os << "  " << head << std::string(head.size() < 34 ? 34 - head.size() : 1, ' ') << c.summary << "\n";
  }
  os << "\n`plugauth COMMAND --help` shows a command's options.\n";
}

void Cli::print_help(std::ostream& os, const CommandSpec& spec) const {
  os << "usage: plugauth " << join(spec.words) << (spec.args_usage.empty() ? "" : " " + spec.args_usage);
  for (const auto& o : spec.options) {
    os << " [--" << o.name << (o.value_name.empty() ? "" : " " + o.value_name) << "]" << (o.repeatable ? "…" : "");
  }
  os << "\n\n" << spec.summary << "\n\noptions:\n";
  auto line = [&](const OptionSpec& o) {
    std::string head = "--" + o.name + (o.value_name.empty() ? "" : " " + o.value_name);
    os << "  " << head << std::string(head.size() < 26 ? 26 - head.size() : 1, ' ') << o.help << "\n";
  };
  for (const auto& o : spec.options) line(o);
  for (const auto& o : global_options()) line(o);
}

void Cli::print_group(std::ostream& os, const std::vector<std::string>& prefix) const {
  os << "usage: plugauth " << join(prefix) << " SUBCOMMAND\n\nsubcommands:\n";
  for (const auto& c : commands_) {
    if (!starts_with(c.words, prefix)) continue;
    std::string head = join(c.words) + (c.args_usage.empty() ? "" : " " + c.args_usage);
    os << "  " << head << std::string(head.size() < 34 ? 34 - head.size() : 1, ' ') << c.summary << "\n";
  }
}

int Cli::run(const std::vector<std::string>& argv, Invocation inv) const {
  std::ostream& out = *inv.out;
  std::ostream& err = *inv.err;
  if (argv.empty()) {
    print_overview(err);
    return kExitUsage;
  }
  if (argv[0] == "--help" || argv[0] == "-h" || argv[0] == "help") {
    print_overview(out);
    return kExitOk;
  }
  if (argv[0] == "--version" && argv.size() == 1) return run({"version"}, std::move(inv));

  // The longest run of leading words that names a command.
  const CommandSpec* spec = nullptr;
  size_t used = 0;
  std::vector<std::string> leading;
  for (const auto& a : argv) {
    if (!a.empty() && a[0] == '-') break;
    leading.push_back(a);
  }
  for (const auto& c : commands_) {
    if (starts_with(leading, c.words) && c.words.size() > used) {
      spec = &c;
      used = c.words.size();
    }
  }
  const bool wants_help = std::find(argv.begin(), argv.end(), "--help") != argv.end() ||
                          std::find(argv.begin(), argv.end(), "-h") != argv.end();
  if (spec == nullptr) {
    // A group word alone ("plugauth signing-key") or an unknown command.
    for (size_t n = leading.size(); n > 0; --n) {
      std::vector<std::string> prefix(leading.begin(), leading.begin() + static_cast<long>(n));
      bool group = std::any_of(commands_.begin(), commands_.end(),
                               [&](const CommandSpec& c) { return starts_with(c.words, prefix); });
      if (group) {
        if (wants_help && n == leading.size()) {
          print_group(out, prefix);
          return kExitOk;
        }
        if (n < leading.size()) err << "plugauth: unknown subcommand \"" << leading[n] << "\"\n";
        print_group(err, prefix);
        return kExitUsage;
      }
    }
    err << "plugauth: unknown command \"" << (leading.empty() ? argv[0] : leading[0])
        << "\"; `plugauth --help` lists the commands\n";
    return kExitUsage;
  }
  if (wants_help) {
    print_help(out, *spec);
    return kExitOk;
  }

  inv.words = spec->words;
  // "--expires 90 days": the word after a duration, which makes a stray
  // argument; the arity error then shows the forms a duration takes.
  std::string split_duration;
  const OptionSpec* last_value_of = nullptr;
  for (size_t i = used; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    const OptionSpec* value_before = std::exchange(last_value_of, nullptr);
    if (a.size() < 2 || a[0] != '-' || a == "--") {
      if (a == "--") {  // everything after is positional
        inv.args.insert(inv.args.end(), argv.begin() + static_cast<long>(i) + 1, argv.end());
        break;
      }
      if (value_before != nullptr && value_before->value_name == "DURATION" && split_duration.empty())
        split_duration = "--" + value_before->name + " takes one word: whole seconds or a number with s, m, h or d "
                         "(90d, 12h, 30m, 3600); \"" + inv.options[value_before->name].back() + " " + a + "\" is two";
      inv.args.push_back(a);
      continue;
    }
    if (a[1] != '-') return usage_error(inv, "unknown option \"" + a + "\"; options take two dashes");
    std::string name = a.substr(2);
    std::optional<std::string> inline_value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const OptionSpec* opt = find_option(*spec, name);
    if (opt == nullptr)
      return usage_error(inv, "unknown option --" + name + " for `plugauth " + join(spec->words) + "`");
    std::string value;
    if (opt->value_name.empty()) {
      if (inline_value) return usage_error(inv, "--" + name + " takes no value");
    } else if (inline_value) {
      value = *inline_value;
      last_value_of = opt;
    } else {
      if (i + 1 >= argv.size()) return usage_error(inv, "--" + name + " needs a value (" + opt->value_name + ")");
      value = argv[++i];
      last_value_of = opt;
    }
    if (inv.options.count(name) && !opt->repeatable)
      return usage_error(inv, "--" + name + " given more than once");
    inv.options[name].push_back(value);
  }
  inv.json = inv.has("json");
  inv.data_flag = inv.get("data");
  inv.config_flag = inv.get("config");
  if (inv.has("data") && inv.data_flag.empty()) return usage_error(inv, "--data needs a directory");
  if (inv.args.size() > spec->max_args && !split_duration.empty()) return usage_error(inv, split_duration);
  if (inv.args.size() < spec->min_args || inv.args.size() > spec->max_args) {
    std::string expected = spec->args_usage.empty() ? "no arguments" : spec->args_usage;
    return usage_error(inv, "`plugauth " + join(spec->words) + "` takes " + expected + "; got " +
                                std::to_string(inv.args.size()) + " argument(s)");
  }
  return spec->run(inv);
}

void print_json(Invocation& inv, const picojson::value& doc) { *inv.out << to_json(doc, true); }

int fail(Invocation& inv, const std::string& message) {
  if (inv.json) {
    picojson::object o;
    o["error"] = picojson::value(message);
    *inv.out << to_json(picojson::value(o), true);
  }
  *inv.err << "plugauth: " << message << "\n";
  return kExitFailed;
}

int usage_error(Invocation& inv, const std::string& message) {
  *inv.err << "plugauth: " << message << "\n";
  if (!inv.words.empty()) *inv.err << "see `plugauth " << join(inv.words) << " --help`\n";
  return kExitUsage;
}

}  // namespace plugauth::cli
