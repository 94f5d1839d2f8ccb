# Run by `cmake --install` (install(SCRIPT) in CMakeLists.txt), with CMAKE_INSTALL_PREFIX the prefix
# of this install and VS_* set by the install(CODE) before it. Installs the example config and the
# systemd unit, whose paths depend on the prefix known only now.

function(vs_install_dir var rel)  # an install-time directory: absolute as given, else under the prefix
  if(IS_ABSOLUTE "${rel}")
    set(${var} "${rel}" PARENT_SCOPE)
  else()
    set(${var} "${CMAKE_INSTALL_PREFIX}/${rel}" PARENT_SCOPE)
  endif()
endfunction()

# GNUInstallDirs: SYSCONFDIR "etc" is /etc for the /usr prefix (and /etc/opt for /opt/..., not
# handled here: give -DCMAKE_INSTALL_SYSCONFDIR=/etc/opt/... instead).
if(VS_SYSCONFDIR STREQUAL "etc" AND CMAKE_INSTALL_PREFIX MATCHES "^/usr/?$")
  set(sysconf /etc)
else()
  vs_install_dir(sysconf "${VS_SYSCONFDIR}")
endif()
vs_install_dir(sbin "${VS_SBINDIR}")
vs_install_dir(unitdir "${VS_SYSTEMD_UNIT_DIR}")

# The example config: an administrator's edited copy is never overwritten.
if(EXISTS "$ENV{DESTDIR}${sysconf}/vsrouter/vsrouter.toml")
  message(STATUS "Keeping: $ENV{DESTDIR}${sysconf}/vsrouter/vsrouter.toml (the example is "
                 "${VS_SOURCE_DIR}/conf/vsrouter.toml)")
else()
  file(INSTALL DESTINATION "${sysconf}/vsrouter" TYPE FILE FILES "${VS_SOURCE_DIR}/conf/vsrouter.toml")
endif()

# The unit names /usr/sbin/vsrouter and /etc/vsrouter/vsrouter.toml: rewritten for this prefix.
file(READ "${VS_SOURCE_DIR}/conf/vsrouter.service" unit)
string(REPLACE "/usr/sbin/vsrouter" "${sbin}/vsrouter" unit "${unit}")
string(REPLACE "/etc/vsrouter/" "${sysconf}/vsrouter/" unit "${unit}")
file(WRITE "${VS_BINARY_DIR}/install/vsrouter.service" "${unit}")
file(INSTALL DESTINATION "${unitdir}" TYPE FILE FILES "${VS_BINARY_DIR}/install/vsrouter.service")
