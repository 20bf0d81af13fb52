# aisle_warnings(target): the project's warning set, applied to our own targets only.
function(aisle_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
endfunction()
