# Fails when a kit source includes a kit module its module does not list in CMakeLists.txt
cmake_minimum_required(VERSION 3.25)
# (KIT_USES_<module>), or includes the service: the kit's layers point one way.
#   cmake -DSOURCE_DIR=<repo>/src -DRULES=<generated rules> -DSTAMP=<file> -P check_kit_layers.cmake
include(${RULES})

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
  file(STRINGS ${SOURCE_DIR}/${file} includes REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  foreach(line ${includes})
    string(REGEX REPLACE "^[^\"]*\"([^\"]*)\".*$" "\\1" header "${line}")
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

if(problems)
  message(FATAL_ERROR "kit layering (CMakeLists.txt, KIT_USES_<module>):\n${problems}")
endif()
file(WRITE ${STAMP} "ok\n")
