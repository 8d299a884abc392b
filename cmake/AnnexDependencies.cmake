# Every dependency comes from Debian's packages (see README "Dependencies").

find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(PostgreSQL REQUIRED)
find_package(SQLite3 REQUIRED)

# Poco's Data targets name PostgreSQL::client without finding it.
if(NOT TARGET PostgreSQL::client)
  add_library(PostgreSQL::client INTERFACE IMPORTED)
  target_link_libraries(PostgreSQL::client INTERFACE PostgreSQL::PostgreSQL)
endif()
# Zip: the evidence packs auditors take away (audit/evidence_pack.h), linked by the core alone.
find_package(Poco REQUIRED COMPONENTS Foundation Net NetSSL Crypto JSON Util Zip)
find_package(spdlog REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS program_options)
find_package(nlohmann_json 3 REQUIRED)
# Howard Hinnant's date/tz (libhowardhinnant-date-dev): time zones from the system's zoneinfo (USE_OS_TZDB), since
# GCC 12's <chrono> has no time zone database yet.
find_package(date REQUIRED)

# SOCI on Debian ships neither a CMake config nor a pkg-config file: make imported targets by hand.
find_path(SOCI_INCLUDE_DIR soci/soci.h REQUIRED)
foreach(part core sqlite3 postgresql odbc)
  find_library(SOCI_${part}_LIBRARY NAMES soci_${part} REQUIRED)
  add_library(SOCI::${part} SHARED IMPORTED)
  set_target_properties(SOCI::${part} PROPERTIES IMPORTED_LOCATION "${SOCI_${part}_LIBRARY}"
                                                INTERFACE_INCLUDE_DIRECTORIES "${SOCI_INCLUDE_DIR}")
  if(NOT part STREQUAL "core")
    set_property(TARGET SOCI::${part} APPEND PROPERTY INTERFACE_LINK_LIBRARIES SOCI::core)
  endif()
endforeach()
set_property(TARGET SOCI::postgresql APPEND PROPERTY INTERFACE_LINK_LIBRARIES PostgreSQL::PostgreSQL)
set_property(TARGET SOCI::sqlite3 APPEND PROPERTY INTERFACE_LINK_LIBRARIES SQLite::SQLite3)

if(ANNEX_BUILD_TESTS)
  find_package(GTest CONFIG REQUIRED)
endif()
