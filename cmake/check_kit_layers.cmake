# Fails when a kit source includes a kit module its module does not list in CMakeLists.txt
cmake_minimum_required(VERSION 3.25)
# (KIT_USES_<module>), or includes the service: the kit's layers point one way. The kit's tests
# (tests/unit/kit, tests/integration/kit) and the helpers every test shares (tests/support) are
# held to the second rule too, so the kit is tested as it is built.
#   cmake -DSOURCE_DIR=<repo>/src -DTESTS_DIR=<repo>/tests -DRULES=<generated rules>
#         -DSTAMP=<file> -P check_kit_layers.cmake
include(${RULES})

# The quoted #include targets of a file.
function(quoted_includes path out)
  file(STRINGS ${path} lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  set(headers "")
  foreach(line ${lines})
    string(REGEX REPLACE "^[^\"]*\"([^\"]*)\".*$" "\\1" header "${line}")
    list(APPEND headers ${header})
  endforeach()
  set(${out} ${headers} PARENT_SCOPE)
endfunction()

# The module of a path below src/kit ("http", "db", "db_pg", …).
function(kit_module_of path out)
  if(path MATCHES "^kit/db/(pg|sqlite)/")
    set(${out} "db_${CMAKE_MATCH_1}" PARENT_SCOPE)
  elseif(path MATCHES "^kit/([a-z_]+)/")
    set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()

file(GLOB_RECURSE files RELATIVE ${SOURCE_DIR} ${SOURCE_DIR}/kit/*.cpp ${SOURCE_DIR}/kit/*.hpp)
set(problems "")
foreach(file ${files})
  kit_module_of(${file} module)
  if(NOT module IN_LIST KIT_MODULES)
    string(APPEND problems "  ${file}: not in a module of KIT_MODULES\n")
    continue()
  endif()
  quoted_includes(${SOURCE_DIR}/${file} headers)
  foreach(header ${headers})
    if(header MATCHES "^service/")
      string(APPEND problems "  ${file}: includes ${header} (the kit knows nothing of the service)\n")
      continue()
    endif()
    kit_module_of(${header} used)
    if(used STREQUAL "" OR used STREQUAL module)
      continue()
    endif()
    if(NOT used IN_LIST KIT_USES_${module})
      string(REPLACE ";" ", " allowed "${KIT_USES_${module}}")
      string(APPEND problems
             "  ${file}: includes ${header}, but kit module '${module}' may use only: "
             "${allowed}\n")
    endif()
  endforeach()
endforeach()

file(GLOB_RECURSE test_files RELATIVE ${TESTS_DIR} ${TESTS_DIR}/unit/kit/*
     ${TESTS_DIR}/integration/kit/* ${TESTS_DIR}/support/*)
foreach(file ${test_files})
  quoted_includes(${TESTS_DIR}/${file} headers)
  foreach(header ${headers})
    if(header MATCHES "^service/")
      string(APPEND problems "  tests/${file}: includes ${header} (the kit's tests know nothing of the service)\n")
    endif()
  endforeach()
endforeach()

if(problems)
  message(FATAL_ERROR "kit layering (CMakeLists.txt, KIT_USES_<module>):\n${problems}")
endif()
file(WRITE ${STAMP} "ok\n")
