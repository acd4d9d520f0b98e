# Cross-compiles every runtime source with arm-none-eabi-gcc for the boards'
# cores, warnings as errors, and checks that the Cortex-M build uses the DSP
# instructions (not the portable models). Run by CTest:
#   cmake -DARM_GCC=... -DARM_OBJDUMP=... -DRUNTIME_DIR=... -DOUT_DIR=... -P nn_cross_compile.cmake

foreach(var ARM_GCC ARM_OBJDUMP RUNTIME_DIR OUT_DIR)
    if(NOT ${var})
        message(FATAL_ERROR "${var} is not set")
    endif()
endforeach()

set(warnings -std=c99 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Werror)
# name|flags, flags separated by spaces
set(cores
    "cortex-m4|-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
    "cortex-m7|-mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16")

file(GLOB common_sources ${RUNTIME_DIR}/src/common/*.c)
file(GLOB reference_sources ${RUNTIME_DIR}/src/reference/*.c)
file(GLOB cortex_m_sources ${RUNTIME_DIR}/src/cortex_m/*.c)

set(failures 0)
foreach(core ${cores})
    string(REPLACE "|" ";" core ${core})
    list(GET core 0 core_name)
    list(GET core 1 core_flags)
    separate_arguments(core_flags UNIX_COMMAND "${core_flags}")
    foreach(variant common reference cortex_m)
        set(includes -I${RUNTIME_DIR}/include -I${RUNTIME_DIR}/src/common)
        if(variant STREQUAL "cortex_m")
            list(APPEND includes -I${RUNTIME_DIR}/src/cortex_m)
        endif()
        set(out ${OUT_DIR}/${core_name}/${variant})
        file(MAKE_DIRECTORY ${out})
        foreach(source ${${variant}_sources})
            get_filename_component(stem ${source} NAME_WE)
            execute_process(
                COMMAND ${ARM_GCC} ${core_flags} -O2 ${warnings} ${includes} -c ${source}
                        -o ${out}/${stem}.o
                RESULT_VARIABLE rc OUTPUT_VARIABLE output ERROR_VARIABLE output)
            if(NOT rc EQUAL 0)
                message(SEND_ERROR "${core_name} ${variant}/${stem}.c:\n${output}")
                math(EXPR failures "${failures} + 1")
            elseif(NOT output STREQUAL "")
                message(SEND_ERROR "${core_name} ${variant}/${stem}.c printed diagnostics:\n${output}")
                math(EXPR failures "${failures} + 1")
            endif()
        endforeach()
    endforeach()

    # The DSP build must contain the dual MACs, not the C models.
    foreach(check "nn_convolve_s8|smlad" "nn_convolve_1x1_s8|smlad" "nn_depthwise_conv_s8|smlabb"
                  "nn_depthwise_conv_in_place_s8|smlad" "nn_convolve_1x1_in_place_s8|smlad"
                  "nn_depthwise_conv_s4|smlabb"
                  "nn_max_pool_s8|sel" "nn_fully_connected_s4|smlad" "nn_avg_pool_s8|sxtab16"
                  "nn_fully_connected_sparse_s8|clz")
        string(REPLACE "|" ";" check ${check})
        list(GET check 0 stem)
        list(GET check 1 mnemonic)
        execute_process(COMMAND ${ARM_OBJDUMP} -d ${OUT_DIR}/${core_name}/cortex_m/${stem}.o
                        RESULT_VARIABLE rc OUTPUT_VARIABLE disassembly ERROR_VARIABLE disassembly)
        if(NOT rc EQUAL 0 OR NOT disassembly MATCHES "\t${mnemonic}[ \t]")
            message(SEND_ERROR "${core_name}: cortex_m/${stem}.o has no ${mnemonic} instruction")
            math(EXPR failures "${failures} + 1")
        endif()
    endforeach()
endforeach()

if(failures GREATER 0)
    message(FATAL_ERROR "${failures} cross-compilation check(s) failed")
endif()
message(STATUS "every runtime source cross-compiles cleanly for cortex-m4 and cortex-m7")
