# install.cmake — what `cmake --install` puts where (GNUInstallDirs):
#   bin/rasterpool                          the program (RPATH $ORIGIN/../lib)
#   lib/librasterpool.so.0.1.0, .so.0, .so  the library (SONAME .so.0)
#   include/rasterpool.h, rasterpool_version.h
#   libexec/rasterpool/rasterpool-worker    the batch worker program
#   lib/pkgconfig/rasterpool.pc             pkg-config
#   lib/cmake/rasterpool/                   find_package(rasterpool): target rasterpool::rasterpool
#   share/man/man1/rasterpool.1, share/doc/rasterpool/LICENSE
# tests/postinstall/run.sh checks each of these in an installed prefix.
# Included from the top CMakeLists.txt, after the targets are defined.
include(CMakePackageConfigHelpers)

install(TARGETS rasterpool EXPORT rasterpoolTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS rasterpool_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS rasterpool_worker RUNTIME DESTINATION ${RP_WORKER_INSTALL_DIR})
install(FILES include/rasterpool.h ${RP_GENERATED_INCLUDE}/rasterpool_version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(RP_WITH_MPI)
  install(FILES include/rasterpool_mpi.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endif()
install(FILES docs/rasterpool.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR})

# pkg-config. The prefix is found from the .pc file's own place
# (${pcfiledir}), so `cmake --install --prefix P` and DESTDIR staging need
# no reconfigure and a moved prefix still works; absolute install dirs are
# written as they are.
set(RP_PC_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
rp_under_prefix(rp_pcdir "${RP_PC_DIR}")
file(RELATIVE_PATH rp_pc_to_prefix "${rp_pcdir}" "/prefix")
string(REGEX REPLACE "/$" "" rp_pc_to_prefix "${rp_pc_to_prefix}")
set(RP_PC_PREFIX "\${pcfiledir}/${rp_pc_to_prefix}")
foreach(dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
    set(RP_PC_${dir} "${CMAKE_INSTALL_${dir}}")
  else()
    set(RP_PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
  endif()
endforeach()
configure_file(cmake/rasterpool.pc.in ${PROJECT_BINARY_DIR}/rasterpool.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/rasterpool.pc DESTINATION ${RP_PC_DIR})

# CMake package: rasterpoolConfig.cmake (finds GDAL, which the target links
# publicly: callers register GDAL's drivers), the exported target
# rasterpool::rasterpool, and a version file. While the major version is 0
# a minor release may break the ABI, so only the same MAJOR.MINOR matches.
set(RP_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/rasterpool)
install(EXPORT rasterpoolTargets NAMESPACE rasterpool:: DESTINATION ${RP_CMAKE_DIR})
configure_package_config_file(cmake/rasterpoolConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/rasterpoolConfig.cmake
                              INSTALL_DESTINATION ${RP_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/rasterpoolConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/rasterpoolConfig.cmake
              ${PROJECT_BINARY_DIR}/rasterpoolConfigVersion.cmake
        DESTINATION ${RP_CMAKE_DIR})
