# Use ccache for C and C++ when it is installed (CI keeps its cache between runs
# on the same machine; a cold cache costs nothing extra).
find_program(HILNAS_CCACHE ccache)
if(HILNAS_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
    set(CMAKE_C_COMPILER_LAUNCHER ${HILNAS_CCACHE})
    set(CMAKE_CXX_COMPILER_LAUNCHER ${HILNAS_CCACHE})
    message(STATUS "ccache: ${HILNAS_CCACHE}")
endif()
