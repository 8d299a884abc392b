#include "audit/evidence_pack.h"

#include "auth/secrets.h"
#include "clock/utc.h"
#include "crypto/digest.h"
#include "errors/field_error.h"
#include "store/transaction.h"

#include <Poco/DateTime.h>
#include <Poco/Path.h>
#include <Poco/Zip/Compress.h>
#include <Poco/Zip/ZipArchive.h>
#include <Poco/Zip/ZipStream.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <istream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace annex::audit {
namespace {

constexpr const char* kManifestFile = "manifest.json";
constexpr const char* kProofFile = "audit-proof.jsonl";
constexpr const char* kDocumentsDir = "documents/";
constexpr const char* kPackFormat = "annex-evidence-pack";
constexpr size_t kMaxObjects = 10000;
// What a verifier reads of one pack and of one file in it: well past what a host makes, short of exhausting memory
// on an archive built to expand without end.
constexpr size_t kMaxPackBytes = size_t{1} << 30;
constexpr size_t kMaxFileBytes = size_t{512} << 20;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The number of files the archive's end-of-central-directory record declares; nothing for an archive without one
// or one that defers to ZIP64.
std::optional<uint64_t> declared_entries(const std::string& bytes) {
  if (bytes.size() < 22) return std::nullopt;
  size_t lowest = bytes.size() > 22 + 65535 ? bytes.size() - 22 - 65535 : 0;
  for (size_t at = bytes.size() - 22 + 1; at-- > lowest;) {
    if (bytes.compare(at, 4, "PK\x05\x06") != 0) continue;
    auto u16 = [&](size_t off) {
      return static_cast<uint16_t>(static_cast<unsigned char>(bytes[at + off]) |
                                   static_cast<unsigned char>(bytes[at + off + 1]) << 8);
    };
    uint16_t total = u16(10);
    if (total == 0xFFFF) return std::nullopt;
    return total;
  }
  return std::nullopt;
}

// Walks the archive's records in the order Poco's reader meets them — local files with their data, the central
// directory, its end — and names the first one it must not hand to that reader: a record that is none of those
// (ZIP64 records among them, whose declared sizes the reader would allocate blindly), a file whose sizes are left
// to a data descriptor or to ZIP64, or a length that runs past the end. A host writes none of these.
std::optional<std::string> unreadable_structure(const std::string& bytes) {
  auto u16 = [&](size_t at) {
    return static_cast<uint64_t>(static_cast<unsigned char>(bytes[at]) | static_cast<unsigned char>(bytes[at + 1]) << 8);
  };
  auto u32 = [&](size_t at) { return u16(at) | u16(at + 2) << 16; };
  size_t at = 0;
  while (at < bytes.size()) {
    auto fits = [&](uint64_t length) { return length <= bytes.size() - at; };
    if (!fits(4)) return "it ends inside a record at byte " + std::to_string(at);
    uint64_t length = 0;
    if (bytes.compare(at, 4, "PK\x03\x04") == 0) {
      if (!fits(30)) return "a file's header runs past the end";
      uint64_t flags = u16(at + 6), compressed = u32(at + 18), uncompressed = u32(at + 22);
      if ((flags & 0x8) != 0) return "a file leaves its sizes to a data descriptor";
      if (compressed == 0xFFFFFFFF || uncompressed == 0xFFFFFFFF) return "a file uses ZIP64 sizes";
      length = 30 + u16(at + 26) + u16(at + 28) + compressed;
    } else if (bytes.compare(at, 4, "PK\x01\x02") == 0) {
      if (!fits(46)) return "a directory entry runs past the end";
      length = 46 + u16(at + 28) + u16(at + 30) + u16(at + 32);
    } else if (bytes.compare(at, 4, "PK\x05\x06") == 0) {
      if (!fits(22)) return "the directory's end record runs past the end";
      length = 22 + u16(at + 20);
    } else {
      return "an unknown or ZIP64 record at byte " + std::to_string(at);
    }
    if (!fits(length)) return "a record at byte " + std::to_string(at) + " runs past the end";
    at += length;
  }
  return std::nullopt;
}

}  // namespace

void check_document_name(std::string_view name) {
  auto refuse = [&](const std::string& why) {
    throw FieldError("documents", "document name \"" + std::string(name) + "\" " + why);
  };
  if (name.empty() || name.size() > 128) refuse("must be 1 to 128 characters long");
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) refuse("may hold only the letters A-Z and a-z, digits, '.', '_' and '-' (no path separators)");
  }
  if (name.front() == '.' || name.find("..") != std::string_view::npos) refuse("may neither start with '.' nor hold \"..\"");
}

std::vector<ObjectRef> parse_objects(std::string_view json) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded() || !j.is_array()) throw FieldError("objects", "objects must be a JSON array of {\"type\", \"id\"}");
  if (j.empty()) throw FieldError("objects", "name at least one object whose audit entries the pack proves");
  if (j.size() > kMaxObjects) throw FieldError("objects", "at most " + std::to_string(kMaxObjects) + " objects in one pack");
  std::vector<ObjectRef> out;
  std::set<std::pair<std::string, std::string>> seen;
  for (size_t i = 0; i < j.size(); ++i) {
    std::string at = "objects[" + std::to_string(i) + "]";
    if (!j[i].is_object()) throw FieldError(at, "each object is {\"type\", \"id\"}");
    for (const char* member : {"type", "id"}) {
      auto it = j[i].find(member);
      if (it == j[i].end() || !it->is_string() || it->get<std::string>().empty()) {
        throw FieldError(at + "." + member, std::string(member) + " must be a non-empty string");
      }
    }
    ObjectRef o{j[i]["type"].get<std::string>(), j[i]["id"].get<std::string>()};
    if (seen.emplace(o.type, o.id).second) out.push_back(std::move(o));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_documents(std::string_view json) {
  if (json.empty()) return {};
  // Names are compared ignoring case, as the file systems the archive is unpacked on may.
  std::set<std::string> seen;
  std::string repeated;
  auto watch = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (event == nlohmann::json::parse_event_t::key && depth == 1 && parsed.is_string() &&
        !seen.insert(lower(parsed.get<std::string>())).second && repeated.empty()) {
      repeated = parsed.get<std::string>();
    }
    return true;
  };
  nlohmann::json j = nlohmann::json::parse(json, watch, false);
  if (j.is_discarded() || !j.is_object()) throw FieldError("documents", "documents must be a JSON object {name: text}");
  if (!repeated.empty()) throw FieldError("documents", "document name \"" + repeated + "\" appears twice (names are compared ignoring case)");
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, text] : j.items()) {
    check_document_name(name);
    if (!text.is_string()) throw FieldError("documents", "document \"" + name + "\" must be text (a JSON string)");
    out.emplace_back(name, text.get<std::string>());
  }
  return out;
}

Pack build_evidence_pack(AuditLog& log, const PackRequest& request) {
  if (request.title.empty() || request.title.size() > 200) throw FieldError("title", "title must be 1 to 200 characters long");
  try {
    (void)nlohmann::json(request.title).dump();
  } catch (const nlohmann::json::exception&) {
    throw FieldError("title", "title must be UTF-8 text");
  }
  if (request.objects.empty()) throw FieldError("objects", "name at least one object whose audit entries the pack proves");
  std::set<std::string> names;
  for (const auto& [name, bytes] : request.documents) {
    check_document_name(name);
    if (!names.insert(lower(name)).second) {
      throw FieldError("documents", "document name \"" + name + "\" appears twice (names are compared ignoring case)");
    }
  }
  {
    store::Lease lease(log.database());
    const int* depth = store::transaction_depth_slot(lease.session());
    if (depth != nullptr && *depth > 0) {
      throw std::invalid_argument("an evidence pack is made outside any transaction: its audit entry and checkpoint must be "
                                  "committed before the pack is handed out");
    }
  }
  std::vector<int64_t> seqs = entries_about(log.database(), request.objects, kMaxPackEntries);

  Pack pack;
  pack.id = auth::new_id("ev_");
  nlohmann::json objects = nlohmann::json::array();
  for (const auto& o : request.objects) objects.push_back({{"type", o.type}, {"id", o.id}});
  nlohmann::json documents = nlohmann::json::array();
  for (const auto& [name, bytes] : request.documents) {
    documents.push_back({{"name", name}, {"sha256", crypto::sha256_hex(bytes)}, {"size", bytes.size()}});
  }
  nlohmann::json manifest = {{"format", kPackFormat},
                             {"version", 1},
                             {"id", pack.id},
                             {"title", request.title},
                             {"created_at", clock::utc_now()},
                             {"created_by", request.principal},
                             {"objects", objects},
                             {"documents", documents},
                             {"audit_entries", seqs}};
  Entry entry = log.append(Change{request.principal, kEvidenceAction, kEvidenceObjectType, pack.id, "", manifest.dump()});
  pack.entry_seq = entry.seq;
  seqs.push_back(entry.seq);
  std::ostringstream proof;
  pack.proof = write_proof(log, seqs, proof);

  std::ostringstream out(std::ios::out | std::ios::binary);
  Poco::Zip::Compress zip(out, true);
  Poco::DateTime now;
  auto add = [&](const std::string& path, const std::string& bytes) {
    std::istringstream in(bytes, std::ios::in | std::ios::binary);
    zip.addFile(in, now, Poco::Path(path, Poco::Path::PATH_UNIX), Poco::Zip::ZipCommon::CM_DEFLATE,
                Poco::Zip::ZipCommon::CL_NORMAL);
  };
  add(kManifestFile, manifest.dump(2) + "\n");
  for (const auto& [name, bytes] : request.documents) add(kDocumentsDir + name, bytes);
  add(kProofFile, proof.str());
  zip.close();
  pack.bytes = out.str();
  return pack;
}

bool looks_like_zip(std::string_view head) {
  return head.size() >= 4 && head[0] == 'P' && head[1] == 'K' &&
         ((head[2] == '\x03' && head[3] == '\x04') || (head[2] == '\x05' && head[3] == '\x06'));
}

PackReport verify_evidence_pack(std::istream& zip, const Signer* key) {
  PackReport r;
  auto fail = [&r](std::string file, int64_t seq, std::string problem) {
    r.ok = false;
    r.file = std::move(file);
    r.first_bad_seq = seq;
    r.problem = std::move(problem);
    return r;
  };
  std::string bytes;
  {
    std::ostringstream all(std::ios::out | std::ios::binary);
    char chunk[1 << 16];
    while (zip.read(chunk, sizeof chunk) || zip.gcount() > 0) {
      all.write(chunk, zip.gcount());
      if (static_cast<size_t>(all.tellp()) > kMaxPackBytes) return fail("", 0, "the pack is larger than a host makes (1 GiB)");
    }
    bytes = all.str();
  }

  // Every file, read once; a name that appears twice would let two readers see two different packs.
  std::map<std::string, std::string> files;
  if (std::optional<std::string> why = unreadable_structure(bytes)) return fail("", 0, "not an archive a host writes: " + *why);
  try {
    std::istringstream in(bytes, std::ios::in | std::ios::binary);
    Poco::Zip::ZipArchive archive(in);
    size_t listed = static_cast<size_t>(std::distance(archive.fileInfoBegin(), archive.fileInfoEnd()));
    size_t stored = static_cast<size_t>(std::distance(archive.headerBegin(), archive.headerEnd()));
    std::optional<uint64_t> declared = declared_entries(bytes);
    if ((declared && *declared != listed) || stored != listed) {
      return fail("", 0, "the archive holds a file name twice, or files its directory does not list");
    }
    std::set<std::string> directory;
    for (auto it = archive.fileInfoBegin(); it != archive.fileInfoEnd(); ++it) directory.insert(it->first);
    for (auto it = archive.headerBegin(); it != archive.headerEnd(); ++it) {
      const std::string& name = it->first;
      if (!directory.contains(name)) return fail(name, 0, "is in the archive but not in its directory");
      if (it->second.isDirectory()) continue;
      in.clear();
      Poco::Zip::ZipInputStream data(in, it->second, true);
      std::string content;
      char chunk[1 << 16];
      while (data.read(chunk, sizeof chunk) || data.gcount() > 0) {
        content.append(chunk, static_cast<size_t>(data.gcount()));
        if (content.size() > kMaxFileBytes) return fail(name, 0, "is larger than a host makes (512 MiB)");
      }
      if (!data.crcValid()) return fail(name, 0, "is damaged: its checksum does not match");
      files.emplace(name, std::move(content));
    }
  } catch (const Poco::Exception& e) {
    return fail("", 0, "not a readable ZIP archive: " + e.displayText());
  } catch (const std::exception& e) {
    return fail("", 0, std::string("not a readable ZIP archive: ") + e.what());
  }

  auto manifest_file = files.find(kManifestFile);
  if (manifest_file == files.end()) return fail(kManifestFile, 0, "is missing");
  nlohmann::json manifest = nlohmann::json::parse(manifest_file->second, nullptr, false);
  std::set<int64_t> listed_entries;
  std::set<std::string> known{kManifestFile, kProofFile};
  try {
    if (manifest.is_discarded() || !manifest.is_object()) throw std::invalid_argument("not a JSON object");
    if (manifest.at("format").get<std::string>() != kPackFormat || manifest.at("version").get<int>() != 1) {
      throw std::invalid_argument("not a pack this version of Annex reads");
    }
    r.id = manifest.at("id").get<std::string>();
    r.title = manifest.at("title").get<std::string>();
    for (int64_t seq : manifest.at("audit_entries")) listed_entries.insert(seq);
    // Every document against the manifest.
    for (const auto& d : manifest.at("documents")) {
      std::string path = kDocumentsDir + d.at("name").get<std::string>();
      known.insert(path);
      auto f = files.find(path);
      if (f == files.end()) return fail(path, 0, "is listed in the manifest but missing from the pack");
      std::string sha = crypto::sha256_hex(f->second);
      if (sha != d.at("sha256").get<std::string>() || f->second.size() != d.at("size").get<size_t>()) {
        return fail(path, 0, "does not match the manifest: it was changed after the pack was made (" +
                                 std::to_string(f->second.size()) + " bytes, SHA-256 " + sha + "; the manifest says " +
                                 std::to_string(d.at("size").get<size_t>()) + " bytes, " +
                                 d.at("sha256").get<std::string>() + ")");
      }
      ++r.documents;
    }
  } catch (const std::exception& e) {
    return fail(kManifestFile, 0, std::string("is not a valid manifest: ") + e.what());
  }
  for (const auto& [name, content] : files) {
    if (!known.contains(name)) return fail(name, 0, "is in the pack but not in its manifest");
  }

  // The audit entries, through their segments to signed checkpoints.
  auto proof_file = files.find(kProofFile);
  if (proof_file == files.end()) return fail(kProofFile, 0, "is missing");
  std::istringstream proof_in(proof_file->second);
  r.proof = verify_proof(proof_in, key);
  if (!r.proof.ok) return fail(kProofFile, r.proof.first_bad_seq, r.proof.problem);

  // The manifest against its own audited entry, and the entries it lists against the proof.
  const Entry* own = nullptr;
  std::set<int64_t> proven;
  for (const Entry& e : r.proof.proven) {
    proven.insert(e.seq);
    if (e.action == kEvidenceAction && e.object_type == kEvidenceObjectType && e.object_id == r.id) own = &e;
  }
  if (own == nullptr) return fail(kProofFile, 0, "proves no audit entry of this pack's making, so the manifest cannot be checked");
  r.manifest_seq = own->seq;
  if (canonical_json(manifest_file->second) != own->after_json) {
    return fail(kManifestFile, own->seq, "does not match its audited entry " + std::to_string(own->seq) +
                                             ": it was changed after the pack was made");
  }
  for (int64_t seq : listed_entries) {
    if (!proven.contains(seq)) {
      return fail(kProofFile, seq, "does not prove entry " + std::to_string(seq) + ", which the manifest lists: it was removed");
    }
  }
  r.problem = r.proof.problem;
  return r;
}

}  // namespace annex::audit
