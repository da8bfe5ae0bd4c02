# libFuzzer targets, built only in a separate clang build configured with
# -DPEERMATCH_FUZZ=ON (`make fuzz`, or the smoke runs of `make test`):
#
#   peermatch_fuzz_target(NAME analyzer_fuzz SRCS analyzer_fuzz.cc
#     DEPS peermatch_text          # the libraries it drives
#     SEEDS analyzer_fuzz_seeds.cc # optional: a program that writes seeds
#     DICT json.dict               # optional: a libFuzzer dictionary
#     FLAGS -max_len=4096)         # optional: more libFuzzer flags
#
# With PEERMATCH_FUZZ=ON every library is compiled with
# -fsanitize=fuzzer-no-link,address,undefined (coverage for the fuzzer,
# ASan and UBSan, any UBSan finding fatal) and a target is linked with
# -fsanitize=fuzzer. Its seed corpus is the checked-in folder
# fuzz_corpus/NAME/ beside it, plus what its SEEDS program writes at build
# time into ${CMAKE_BINARY_DIR}/fuzz_corpus/NAME. Each target is a ctest
# NAME_smoke (label fuzz): run_fuzz.py runs it over a temporary copy of its
# corpus for PEERMATCH_FUZZ_SMOKE_SECONDS, or for $PEERMATCH_FUZZ_RUNS
# executions when that is set (`make fuzz`).
# With PEERMATCH_FUZZ=OFF the function does nothing.
include_guard(GLOBAL)

option(PEERMATCH_FUZZ "Build the libFuzzer targets (clang only), and nothing but the libraries they need" OFF)
set(PEERMATCH_FUZZ_SMOKE_SECONDS 10 CACHE STRING "Seconds each fuzz target runs as a ctest")

set(PEERMATCH_FUZZ_RUNNER ${CMAKE_CURRENT_LIST_DIR}/run_fuzz.py)

if(PEERMATCH_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "PEERMATCH_FUZZ=ON needs clang++ (libFuzzer): -DCMAKE_CXX_COMPILER=clang++")
  endif()
  # Lean and fast to build: the fuzzer wants speed and line numbers, not
  # full debug info.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer -gline-tables-only
                      # clang's -Wall flags gRPC's generated raw-method classes.
                      -Wno-overloaded-virtual)
  add_link_options(-fsanitize=address,undefined)
endif()

function(peermatch_fuzz_target)
  if(NOT PEERMATCH_FUZZ)
    return()
  endif()
  cmake_parse_arguments(PM "" "NAME;SEEDS;DICT" "SRCS;DEPS;FLAGS" ${ARGN})
  add_executable(${PM_NAME} ${PM_SRCS})
  target_include_directories(${PM_NAME} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${PM_NAME} PRIVATE ${PM_DEPS})
  target_link_options(${PM_NAME} PRIVATE -fsanitize=fuzzer)
  target_compile_definitions(${PM_NAME} PRIVATE PEERMATCH_SOURCE_DIR="${PROJECT_SOURCE_DIR}")

  set(corpora)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_corpus/${PM_NAME})
    list(APPEND corpora ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_corpus/${PM_NAME})
  endif()
  if(PM_SEEDS)
    set(seed_dir ${CMAKE_BINARY_DIR}/fuzz_corpus/${PM_NAME})
    add_executable(${PM_NAME}_seeds ${PM_SEEDS})
    target_include_directories(${PM_NAME}_seeds PRIVATE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${PM_NAME}_seeds PRIVATE ${PM_DEPS})
    target_compile_definitions(${PM_NAME}_seeds PRIVATE
      PEERMATCH_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
    add_custom_command(TARGET ${PM_NAME}_seeds POST_BUILD
      COMMAND ${CMAKE_COMMAND} -E rm -rf ${seed_dir}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${seed_dir}
      COMMAND $<TARGET_FILE:${PM_NAME}_seeds> ${seed_dir}
      COMMENT "seeds for ${PM_NAME}")
    add_dependencies(${PM_NAME} ${PM_NAME}_seeds)
    list(APPEND corpora ${seed_dir})
  endif()
  set(dict_args)
  if(PM_DICT)
    set(dict_args --dict ${CMAKE_CURRENT_SOURCE_DIR}/${PM_DICT})
  endif()
  set(corpus_args)
  foreach(c ${corpora})
    list(APPEND corpus_args --corpus ${c})
  endforeach()
  add_test(NAME ${PM_NAME}_smoke
    COMMAND ${Python3_EXECUTABLE} ${PEERMATCH_FUZZ_RUNNER} --name ${PM_NAME}
      --binary $<TARGET_FILE:${PM_NAME}> ${corpus_args} ${dict_args}
      --max-total-time ${PEERMATCH_FUZZ_SMOKE_SECONDS}
      --artifacts ${CMAKE_BINARY_DIR}/fuzz_artifacts/${PM_NAME}
      ${PM_FLAGS})
  # No TIMEOUT: libFuzzer stops itself (-max_total_time), and `make fuzz`
  # runs the same tests for -runs=1000000 (PEERMATCH_FUZZ_RUNS).
  set_tests_properties(${PM_NAME}_smoke PROPERTIES LABELS fuzz)
endfunction()
