# Installing shir, and its Debian package (`cpack -G DEB` in a configured build tree):
#   /usr/bin/shir, /lib/systemd/system/shir.service, /etc/shir/shir.conf (a conffile),
#   /usr/share/doc/shir/, maintainer scripts from deploy/debian/ (the `shir` system user,
#   /etc/shir, /var/lib/shir 0700 owned by shir). Runtime dependencies come from dpkg-shlibdeps
#   on the binary, plus the floor on libraft0 that the build enforces (0.22, bookworm-backports;
#   its shlibs file alone would accept Debian 12's 0.15), plus libsmbclient, which the binary
#   dlopens for smb:// sources (scan/source/smblib.h) so dpkg-shlibdeps cannot see it: 4.12 is
#   where smbc_getFunctionReaddirPlus2, the newest function we call, appeared (its symbols file).
#   docs/operations.md installs it.
include(GNUInstallDirs)

install(TARGETS shir RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT shir)
# Debian 12 keeps packaged units under /lib/systemd/system (one tree with /usr/lib, usrmerge).
install(FILES ${PROJECT_SOURCE_DIR}/deploy/shir.service DESTINATION /lib/systemd/system
  COMPONENT shir)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/shir.conf DESTINATION /etc/shir COMPONENT shir)
install(FILES ${PROJECT_SOURCE_DIR}/docs/operations.md ${PROJECT_SOURCE_DIR}/docs/cli.md
  ${PROJECT_SOURCE_DIR}/docs/security.md ${PROJECT_SOURCE_DIR}/LICENSE
  DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT shir)

set(CPACK_PACKAGE_NAME shir)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "shir")
set(CPACK_PACKAGE_CONTACT "shir maintainers <shir@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Linux-native self-hosted integration runtime")
set(CPACK_PACKAGE_DESCRIPTION
  "The agent a data catalog installs inside a private network to scan file shares, files and\n\
databases for metadata and sensitive data. 1-4 nodes form one Raft group over one\n\
mutually-authenticated TLS port.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_CMAKE_PROJECTS "${CMAKE_BINARY_DIR};${PROJECT_NAME};shir;/")
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # shir_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libraft0 (>= 0.22), libsmbclient (>= 2:4.12.0), adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/deploy/debian/conffiles
  ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
  ${PROJECT_SOURCE_DIR}/deploy/debian/prerm
  ${PROJECT_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
