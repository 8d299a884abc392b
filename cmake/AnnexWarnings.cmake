# Warnings for the project's own targets. Third-party headers come in as SYSTEM and stay quiet.
function(annex_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-unused-parameter)
endfunction()
