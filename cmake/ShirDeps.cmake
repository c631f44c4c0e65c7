# Third-party libraries, all from Debian packages (deploy/install-deps.sh), as imported targets.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

pkg_check_modules(UV REQUIRED IMPORTED_TARGET libuv>=1.44)
pkg_check_modules(MSGPACK REQUIRED IMPORTED_TARGET msgpack>=4.0)
pkg_check_modules(OPENSSL REQUIRED IMPORTED_TARGET libssl>=3.0 libcrypto>=3.0)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl>=7.88)
pkg_check_modules(HS REQUIRED IMPORTED_TARGET libhs>=5.4)
pkg_check_modules(ZLIB REQUIRED IMPORTED_TARGET zlib)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
# Database sources (scan/source/db_*.c): PostgreSQL, MySQL/MariaDB (Connector/C), SQLite.
pkg_check_modules(PQ REQUIRED IMPORTED_TARGET libpq>=13)
pkg_check_modules(MARIADB REQUIRED IMPORTED_TARGET libmariadb>=3.1)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3>=3.31)
# SMB shares as a source (scan/source/smb.c): Samba's libsmbclient (libsmbclient-dev), its
# header only: the library is dlopen'd on first use (scan/source/smblib.h).
pkg_check_modules(SMBCLIENT REQUIRED IMPORTED_TARGET smbclient>=0.7)
# Parquet LZ4 / LZ4_RAW and Brotli pages, Avro lz4 blocks (liblz4-dev, libbrotli-dev).
pkg_check_modules(LZ4 REQUIRED IMPORTED_TARGET liblz4)
pkg_check_modules(BROTLIDEC REQUIRED IMPORTED_TARGET libbrotlidec)
# Office Open XML: zip parts (libarchive-dev) and XML (libexpat1-dev).
pkg_check_modules(LIBARCHIVE REQUIRED IMPORTED_TARGET libarchive)
pkg_check_modules(EXPAT REQUIRED IMPORTED_TARGET expat)
# The agent's config file (node/config.c) and systemd readiness (node/sdnotify.c).
pkg_check_modules(INIH REQUIRED IMPORTED_TARGET inih)
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
# The agent's HTTP endpoint (node/http.c) and `shir diag`'s tar.gz bundle (node/cmd_diag.c).
pkg_check_modules(MHD REQUIRED IMPORTED_TARGET libmicrohttpd>=0.9.75)
# (libarchive: LIBARCHIVE above, for the scan engine too.)
# Debian's libsnappy-dev ships no pkg-config file: find the C API header and library directly.
find_path(SNAPPY_INCLUDE_DIR snappy-c.h REQUIRED)
find_library(SNAPPY_LIBRARY snappy REQUIRED)
pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka>=1.1)

# cowsql/raft: refuse 0.15 (Debian 12's default) explicitly, with the reason.
pkg_check_modules(RAFT REQUIRED IMPORTED_TARGET raft)
if(RAFT_VERSION VERSION_LESS 0.22)
  message(FATAL_ERROR
    "raft ${RAFT_VERSION} found; shir needs cowsql/raft >= 0.22 (libraft-dev from "
    "bookworm-backports; run deploy/install-deps.sh). 0.15 crashes on shutdown with in-flight "
    "writes and has known membership-rollback and election-safety bugs.")
endif()
