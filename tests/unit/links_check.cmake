# Checks what a binary links, by its symbol table (issue #12: the controller
# links neither the code generator nor the kernels).
#   BINARY   the binary to read
#   NM       the nm program
#   EXPECT   "absent": none of the kernels' or the code generator's symbols may
#            be defined in BINARY; "present": some must be (the check's own
#            control, run on a binary that does link them)
# A kernel is an entry point of the runtime (nn_convolve_s8, ...): its scratch
# size (*_get_buffer_size) and the quantisation helpers are the runtime's
# rules, which the cost model and the artifact validator read, and may stay.
execute_process(COMMAND ${NM} -C --defined-only ${BINARY}
                OUTPUT_VARIABLE symbols RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NM} ${BINARY} failed (${rc})")
endif()
string(REPLACE "\n" ";" lines "${symbols}")
set(found "")
foreach(line IN LISTS lines)
    if(line MATCHES " [TtWw] (nn_(convolve|depthwise_conv|fully_connected|max_pool|avg_pool|global_avg_pool|add)[a-z0-9_]*_s[48])$"
       OR line MATCHES " [TtWw] (hilnas::firmware::[A-Za-z]+)\\(")
        list(APPEND found "${CMAKE_MATCH_1}")
    endif()
endforeach()
list(REMOVE_DUPLICATES found)
list(LENGTH found n)
if(EXPECT STREQUAL "absent" AND n GREATER 0)
    list(SUBLIST found 0 8 shown)
    message(FATAL_ERROR "${BINARY} defines ${n} kernel or code generator symbols, e.g. ${shown}")
elseif(EXPECT STREQUAL "present" AND n EQUAL 0)
    message(FATAL_ERROR "${BINARY} defines no kernel or code generator symbol: the check is blind")
elseif(NOT EXPECT MATCHES "^(absent|present)$")
    message(FATAL_ERROR "EXPECT must be absent or present, not '${EXPECT}'")
endif()
message(STATUS "${BINARY}: ${n} kernel or code generator symbols (expected ${EXPECT})")
