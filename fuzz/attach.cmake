# fuzz/attach.cmake — lets scripts/fuzz build fuzz/ even where the top-level
# CMakeLists.txt does not add it: passed as -DCMAKE_PROJECT_INCLUDE, it defers reading
# fuzz/CMakeLists.txt to the end of the top-level directory (after core/ exists; a
# deferred call may not add_subdirectory, so the file is include()d there), and does
# nothing if the top level already added fuzz/.
set(PIPELAB_FUZZ_SOURCE_DIR ${CMAKE_CURRENT_LIST_DIR})
function(pipelab_attach_fuzz)
  if(NOT TARGET fuzz_trace_reader)
    include(${PIPELAB_FUZZ_SOURCE_DIR}/CMakeLists.txt)
  endif()
endfunction()
cmake_language(DEFER CALL pipelab_attach_fuzz)
