// ipvsadm's option parser on its own (ctl/ipvsadm_options.hpp): libpopt's scanning, as ipvsadm
// has it, independent of the environment, and never hanging.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <variant>
#include <vector>

#include "ctl/ipvsadm_options.hpp"

using namespace vs::ctl::ipvsadm;

namespace {

ParseExit exit_of(const std::vector<std::string>& args) {
  ParseResult r = parse_options(args);
  EXPECT_TRUE(std::holds_alternative<ParseExit>(r));
  return std::holds_alternative<ParseExit>(r) ? std::get<ParseExit>(r) : ParseExit{};
}

TEST(IpvsadmOptions, ParsesACommandEntry) {
  ParseResult r = parse_options({"-Lnc"});
  ASSERT_TRUE(std::holds_alternative<CommandEntry>(r));
  const CommandEntry& ce = std::get<CommandEntry>(r);
  EXPECT_EQ(ce.cmd, CMD_LIST);
  EXPECT_EQ(ce.options, opt(OPTC_NUMERIC) | opt(OPTC_CONNECTION));
  EXPECT_EQ(ce.format, unsigned{vs::ctl::kFmtNumeric});
}

// libpopt: a short option without argument followed by "=..." is "option does not take an
// argument" (the hand-written scanner this replaced said "unknown option").
TEST(IpvsadmOptions, UnwantedArgumentOfAShortOptionIsPoptsError) {
  ParseExit e = exit_of({"-L", "-n=1"});
  EXPECT_EQ(e.err, "-n=1: option does not take an argument\n");
  EXPECT_EQ(e.code, 255);
  EXPECT_FALSE(e.exits);  // parse_options returns -1: -R goes on
  e = exit_of({"-L=1"});  // on the command itself: ipvsadm's tryhelp
  EXPECT_EQ(e.err, tryhelp_text());
  EXPECT_TRUE(e.exits);
}

// popt replaces "!#:+" in a value with the next argument not starting with '-'...
TEST(IpvsadmOptions, PoptArgumentSubstitution) {
  EXPECT_EQ(exit_of({"-L", "--persistent", "x!#:+y", "-n", "600"}).err, "invalid timeout value `x600y' specified\n");
}

// ... and libpopt 1.19 loops forever when only options follow (ipvsadm hangs): refused.
TEST(IpvsadmOptions, PoptHangIsRefused) {
  ParseExit e = exit_of({"-L", "-t", "x!#:+", "-n"});
  EXPECT_EQ(e.code, 2);
  EXPECT_NE(e.err.find("vsrouter: "), std::string::npos);
  // Nothing after it: popt keeps the text.
  EXPECT_EQ(exit_of({"-L", "-t", "x!#:+"}).err, "illegal virtual server address[:port] specified\n");
}

// ipvsadm 1.31 takes weights 0..INT_MAX (string_to_number(optarg, 0, INT_MAX)), as the kernel.
TEST(IpvsadmOptions, WeightUpToIntMax) {
  for (const char* w : {"0", "65536", "2147483647"}) {
    ParseResult r = parse_options({"-a", "-t", "10.0.0.5:80", "-r", "10.0.1.1", "-w", w});
    ASSERT_TRUE(std::holds_alternative<CommandEntry>(r)) << w;
    EXPECT_EQ(std::get<CommandEntry>(r).dest.weight, std::stoll(w));
  }
  for (const char* w : {"2147483648", "-1"})
    EXPECT_EQ(exit_of({"-a", "-t", "10.0.0.5:80", "-r", "10.0.1.1", "-w", w}).err, "illegal weight specified\n") << w;
}

// POSIXLY_CORRECT would make popt stop at the first argument; the parser ignores it.
TEST(IpvsadmOptions, EnvironmentDoesNotMatter) {
  const std::vector<std::string> line = {"-A", "foo", "-t", "10.0.0.5:80", "-t", "10.0.0.5:81"};
  const std::string expected = "multiple 'service-address' options specified\n";
  EXPECT_EQ(exit_of(line).err, expected);
  ::setenv("POSIXLY_CORRECT", "1", 1);
  ::setenv("POSIX_ME_HARDER", "1", 1);
  EXPECT_EQ(exit_of(line).err, expected);
  EXPECT_STREQ(std::getenv("POSIXLY_CORRECT"), "1");  // put back
  ::unsetenv("POSIXLY_CORRECT");
  ::unsetenv("POSIX_ME_HARDER");
}

}  // namespace
