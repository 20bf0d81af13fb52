# Third-party libraries, all from Debian packages (scripts/install-deps.sh).
find_package(pegtl CONFIG REQUIRED)                       # taocpp::pegtl
find_package(Boost 1.74 CONFIG REQUIRED COMPONENTS graph)  # Boost::graph
find_package(RocksDB CONFIG REQUIRED)                     # RocksDB::rocksdb-shared
find_package(nlohmann_json 3.11 CONFIG REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(date CONFIG REQUIRED)                        # date::date-tz
find_package(CLI11 CONFIG REQUIRED)
find_package(simdjson CONFIG REQUIRED)                    # simdjson::simdjson (bulk NDJSON)
find_package(absl CONFIG REQUIRED)                        # absl::flat_hash_set / _map (hot-path tables)
find_package(Threads REQUIRED)
find_package(OpenSSL REQUIRED)                            # OpenSSL::Crypto (HMAC, SHA-256)
find_package(PkgConfig REQUIRED)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
# cpp-httplib: Debian builds it as a library with OpenSSL, zlib and Brotli support; its .pc file
# carries the matching CPPHTTPLIB_*_SUPPORT definitions, which every includer must see (the class
# layouts depend on them). PkgConfig::HTTPLIB (https works).
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)

# moodycamel ConcurrentQueue ships no CMake or pkg-config file.
find_path(CONCURRENTQUEUE_INCLUDE_DIR concurrentqueue/concurrentqueue.h REQUIRED)
add_library(aisle_concurrentqueue INTERFACE)
target_include_directories(aisle_concurrentqueue SYSTEM INTERFACE ${CONCURRENTQUEUE_INCLUDE_DIR})

if(AISLE_TESTS)
  find_package(Catch2 2.13 CONFIG REQUIRED)               # Catch2::Catch2WithMain (v2)
endif()
