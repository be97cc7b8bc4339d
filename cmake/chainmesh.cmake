# Shared build settings: warnings, sanitizers and the one-library-per-folder helper.

set(CHAINMESH_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wcast-align
    -Wunused -Woverloaded-virtual -Wimplicit-fallthrough)

# GCC 12 reports false positives inside libstdc++'s inlined vector and string copies at -O2
# (GCC bugs 105329, 105651, 106199); they name no code of ours and drown real warnings.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    list(APPEND CHAINMESH_WARNINGS -Wno-array-bounds -Wno-restrict -Wno-stringop-overflow
         -Wno-stringop-overread)
endif()

if(CHAINMESH_SANITIZE)
    add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                        -fno-sanitize-recover=undefined)
    add_link_options(-fsanitize=address,undefined)
endif()

if(CHAINMESH_FUZZ)
    add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
    add_link_options(-fsanitize=address,undefined)
endif()

# chainmesh_library(<part> SOURCES ... DEPS ...) defines target chainmesh_<part>, whose headers
# are included as <chainmesh/<part>/...>.
function(chainmesh_library part)
    cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
    add_library(chainmesh_${part} STATIC ${ARG_SOURCES})
    add_library(chainmesh::${part} ALIAS chainmesh_${part})
    target_include_directories(chainmesh_${part} PUBLIC ${PROJECT_SOURCE_DIR}/src)
    target_compile_options(chainmesh_${part} PRIVATE ${CHAINMESH_WARNINGS})
    target_link_libraries(chainmesh_${part} PUBLIC ${ARG_DEPS})
endfunction()

# chainmesh_unit_test(<name> SOURCES ... DEPS ...) builds one GoogleTest binary and registers
# each of its tests with CTest under the label `unit`.
function(chainmesh_unit_test name)
    cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
    add_executable(${name} ${ARG_SOURCES})
    target_compile_options(${name} PRIVATE ${CHAINMESH_WARNINGS})
    target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
    if(NOT ARG_LABELS)
        set(ARG_LABELS unit)
    endif()
    gtest_discover_tests(${name} PROPERTIES LABELS "${ARG_LABELS}" DISCOVERY_TIMEOUT 60)
endfunction()
