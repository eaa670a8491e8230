# bench_rack_peers: `ironstone-bench rack --nodes 3 --peers 1` at a tiny size (netns + tc as root,
# loopback otherwise, as the bench itself says on stderr); asserts behaviour, no timing: the run
# succeeds, the flashing nodes took bytes from peers, and the NAS sent less than one copy of the
# release with the peer, at least one without. -D BENCH=<ironstone-bench> -D OUT=<prefix>
execute_process(COMMAND ${BENCH} rack --nodes 3 --peers 1 --image-size 256M --link 1gbit --nas-link 250mbit
                --out ${OUT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ironstone-bench rack --peers 1 exited ${rc}")
endif()
file(READ ${OUT}.json j)
string(JSON n LENGTH "${j}" results)
math(EXPR last "${n} - 1")
foreach(i RANGE ${last})
  string(JSON method GET "${j}" results ${i} method)
  string(JSON copies GET "${j}" results ${i} nas_copies)
  string(JSON from_peers GET "${j}" results ${i} from_peers)
  message(STATUS "${method}: NAS copies ${copies}, from peers ${from_peers} bytes")
  if(method STREQUAL "ironstone-peers")
    if(from_peers LESS_EQUAL 0)
      message(FATAL_ERROR "ironstone-peers: the flashing nodes got no bytes from peers")
    endif()
    if(NOT copies LESS 1)
      message(FATAL_ERROR "ironstone-peers: the NAS sent ${copies} copies (expected < 1)")
    endif()
  elseif(method STREQUAL "ironstone" AND copies LESS 0.9)
    message(FATAL_ERROR "ironstone without peers: the NAS sent only ${copies} copies (expected ~1)")
  endif()
endforeach()
