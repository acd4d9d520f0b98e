# Helpers that give every first-party target the same warnings and layout.

# Warnings are errors in our own code; third-party headers come in as SYSTEM
# includes so their warnings do not fail our build.
function(hilnas_warnings target)
    target_compile_options(${target} PRIVATE
        $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Werror -Wshadow -Wnon-virtual-dtor
                                  -Wold-style-cast -Woverloaded-virtual>
        $<$<COMPILE_LANGUAGE:C>:-Wall -Wextra -Wpedantic -Werror -Wshadow -Wstrict-prototypes>)
endfunction()

# hilnas_library(NAME SOURCES ... [DEPS ...] [PRIVATE_DEPS ...])
# A library with public headers under include/ and sources under src/.
function(hilnas_library name)
    cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
    add_library(${name} ${ARG_SOURCES})
    target_include_directories(${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
    target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
    hilnas_warnings(${name})
endfunction()

# hilnas_executable(NAME SOURCES ... [DEPS ...])
function(hilnas_executable name)
    cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
    add_executable(${name} ${ARG_SOURCES})
    target_link_libraries(${name} PRIVATE ${ARG_DEPS})
    hilnas_warnings(${name})
endfunction()

# hilnas_test(NAME SOURCES ... LABELS ... [DEPS ...] [TIMEOUT s])
# One CTest test per GoogleTest binary: a binary that starts an expensive fixture
# (a PostgreSQL cluster, a QEMU board) starts it once for all its cases.
function(hilnas_test name)
    cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LABELS;DEPS" ${ARGN})
    if(NOT ARG_TIMEOUT)
        set(ARG_TIMEOUT 300)
    endif()
    add_executable(${name} ${ARG_SOURCES})
    target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock)
    hilnas_warnings(${name})
    add_test(NAME ${name} COMMAND ${name} --gtest_color=no)
    set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT}
        ENVIRONMENT "HILNAS_BUILD_DIR=${CMAKE_BINARY_DIR};HILNAS_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endfunction()

# hilnas_proto_library(NAME ROOT dir PROTOS a.proto ... [GRPC b.proto ...])
# Generates C++ (and gRPC stubs for the GRPC files) into the build directory and
# builds them as one library. Generated code gets default warnings, not ours.
function(hilnas_proto_library name)
    cmake_parse_arguments(ARG "" "ROOT" "PROTOS;GRPC" ${ARGN})
    set(gen_dir ${CMAKE_CURRENT_BINARY_DIR}/${name}_gen)
    file(MAKE_DIRECTORY ${gen_dir})
    set(files)
    foreach(proto ${ARG_PROTOS} ${ARG_GRPC})
        string(REGEX REPLACE "\\.proto$" "" stem ${proto})
        set(outs ${gen_dir}/${stem}.pb.cc ${gen_dir}/${stem}.pb.h)
        set(plugin_args)
        if(proto IN_LIST ARG_GRPC)
            list(APPEND outs ${gen_dir}/${stem}.grpc.pb.cc ${gen_dir}/${stem}.grpc.pb.h)
            set(plugin_args --grpc_out=${gen_dir}
                            --plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>)
        endif()
        add_custom_command(
            OUTPUT ${outs}
            COMMAND protobuf::protoc --proto_path=${ARG_ROOT} --cpp_out=${gen_dir} ${plugin_args}
                    ${ARG_ROOT}/${proto}
            DEPENDS ${ARG_ROOT}/${proto} protobuf::protoc gRPC::grpc_cpp_plugin
            COMMENT "protoc ${proto}"
            VERBATIM)
        list(APPEND files ${outs})
    endforeach()
    add_library(${name} ${files})
    target_include_directories(${name} SYSTEM PUBLIC ${gen_dir})
    target_link_libraries(${name} PUBLIC protobuf::libprotobuf gRPC::grpc++)
endfunction()
