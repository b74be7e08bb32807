# Fails when a test of the kit (tests/unit/kit, tests/integration/kit) or a shared helper
# (tests/support) includes a service header:
# the kit is tested on its own, as it is built.
#   cmake -DTESTS_DIR=<repo>/tests -DSTAMP=<file> -P check_kit_tests.cmake
cmake_minimum_required(VERSION 3.25)
file(GLOB_RECURSE files RELATIVE ${TESTS_DIR} ${TESTS_DIR}/unit/kit/* ${TESTS_DIR}/integration/kit/*
     ${TESTS_DIR}/support/*)
set(problems "")
foreach(file ${files})
  file(STRINGS ${TESTS_DIR}/${file} includes REGEX "^[ \t]*#[ \t]*include[ \t]*\"service/")
  foreach(line ${includes})
    string(APPEND problems "  tests/${file}: ${line}\n")
  endforeach()
endforeach()
if(problems)
  message(FATAL_ERROR "the kit's tests must not include the service:\n${problems}")
endif()
file(WRITE ${STAMP} "ok\n")
