// libFuzzer target for what an auditor's machine reads from outside: an evidence pack (a ZIP archive from anyone)
// and an audit proof. Beyond crashes, hangs and sanitizer reports it checks that a verdict is always given and that
// a failure says what failed.
#include "audit/audit_proof.h"
#include "audit/evidence_pack.h"

#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  std::istringstream in(bytes);
  if (annex::audit::looks_like_zip(bytes.substr(0, 4))) {
    annex::audit::PackReport r = annex::audit::verify_evidence_pack(in, nullptr);
    if (!r.ok && r.problem.empty()) std::abort();
  } else {
    annex::audit::ProofReport r = annex::audit::verify_proof(in, nullptr);
    if (!r.ok && r.problem.empty()) std::abort();
  }
  return 0;
}
