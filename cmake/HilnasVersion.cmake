# HILNAS_VERSION_STRING: the project version plus the git commit when built from a checkout.
set(HILNAS_VERSION_STRING ${PROJECT_VERSION})
find_package(Git QUIET)
if(GIT_FOUND AND EXISTS ${CMAKE_SOURCE_DIR}/.git)
    execute_process(
        COMMAND ${GIT_EXECUTABLE} rev-parse --short=12 HEAD
        WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
        OUTPUT_VARIABLE HILNAS_GIT_COMMIT
        OUTPUT_STRIP_TRAILING_WHITESPACE
        ERROR_QUIET)
    if(HILNAS_GIT_COMMIT)
        set(HILNAS_VERSION_STRING "${PROJECT_VERSION}+${HILNAS_GIT_COMMIT}")
    endif()
endif()
