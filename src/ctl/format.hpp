// ipvsadm's listing format bits: set by the option parser (ctl/ipvsadm_options.hpp), read by the
// listings (ctl/listing.hpp). A header of its own so that the parser needs nothing of the engine.
#pragma once

namespace vs::ctl {

/// ipvsadm's FMT_* printing flags (ipvsadm.c), same bits.
enum Format : unsigned {
  kFmtNone = 0x0000,
  kFmtNumeric = 0x0001,
  kFmtRule = 0x0002,
  kFmtStats = 0x0004,
  kFmtRate = 0x0008,
  kFmtThresholds = 0x0010,
  kFmtPersistentConn = 0x0020,
  kFmtNoSort = 0x0040,
  kFmtExact = 0x0080,
  kFmtTunInfo = 0x0100,
};

}  // namespace vs::ctl
