# The two helpers every folder's CMakeLists.txt uses, after Abseil's
# absl_cc_library / absl_cc_test:
#
#   peermatch_cc_library(NAME peermatch_text
#     HDRS analyzer.h            # the folder's door (documentation only)
#     SRCS analyzer.cc internal/stopwords.cc
#     DEPS absl::strings         # public: what the headers need
#     PRIVATE_DEPS ICU::uc)      # what only the .cc files need
#
#   peermatch_cc_test(NAME text_test SRCS analyzer_test.cc DEPS peermatch_text
#     LABELS unit)               # unit (default), integration or system
#
# Every target sees the source tree as its include root ("text/analyzer.h");
# a test also gets PEERMATCH_SOURCE_DIR and PEERMATCH_BIN_DIR, and its
# GoogleTest cases are registered one by one with ctest under its labels.
include_guard(GLOBAL)

function(peermatch_cc_library)
  cmake_parse_arguments(PM "" "NAME" "HDRS;SRCS;DEPS;PRIVATE_DEPS;DEFINES" ${ARGN})
  add_library(${PM_NAME} ${PM_SRCS} ${PM_HDRS})
  target_include_directories(${PM_NAME} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${PM_NAME} PUBLIC ${PM_DEPS} PRIVATE ${PM_PRIVATE_DEPS})
  if(PM_DEFINES)
    target_compile_definitions(${PM_NAME} PRIVATE ${PM_DEFINES})
  endif()
endfunction()

function(peermatch_cc_test)
  cmake_parse_arguments(PM "" "NAME" "SRCS;DEPS;LABELS;NEEDS" ${ARGN})
  if(NOT PM_LABELS)
    set(PM_LABELS unit)
  endif()
  add_executable(${PM_NAME} ${PM_SRCS})
  target_include_directories(${PM_NAME} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${PM_NAME} PRIVATE ${PM_DEPS} GTest::gmock_main)
  target_compile_definitions(${PM_NAME} PRIVATE
    PEERMATCH_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    PEERMATCH_BIN_DIR="${CMAKE_BINARY_DIR}/bin")
  if(PM_NEEDS)
    add_dependencies(${PM_NAME} ${PM_NEEDS})
  endif()
  if(PEERMATCH_FUZZ)  # a fuzz build defines tests (others may refer to them) but builds none
    set_target_properties(${PM_NAME} PROPERTIES EXCLUDE_FROM_ALL TRUE)
    return()
  endif()
  gtest_discover_tests(${PM_NAME} PROPERTIES LABELS "${PM_LABELS}" DISCOVERY_TIMEOUT 60)
endfunction()

# A program: a main and the libraries it uses.
function(peermatch_cc_binary)
  cmake_parse_arguments(PM "" "NAME;OUTPUT_NAME" "SRCS;DEPS;DEFINES" ${ARGN})
  add_executable(${PM_NAME} ${PM_SRCS})
  target_include_directories(${PM_NAME} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${PM_NAME} PRIVATE ${PM_DEPS})
  if(PM_OUTPUT_NAME)
    set_target_properties(${PM_NAME} PROPERTIES OUTPUT_NAME ${PM_OUTPUT_NAME})
  endif()
  if(PM_DEFINES)
    target_compile_definitions(${PM_NAME} PRIVATE ${PM_DEFINES})
  endif()
  if(PEERMATCH_FUZZ)
    set_target_properties(${PM_NAME} PROPERTIES EXCLUDE_FROM_ALL TRUE)
  endif()
endfunction()
