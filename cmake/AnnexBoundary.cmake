# The plugin boundary, enforced by the build: a first-party plugin or connector links only Annex::sdk and
# includes no header of the core. annex_first_party_plugin() wraps the SDK's annex_add_plugin() and adds a
# build step that scans the plugin's sources (cmake/CheckSdkBoundary.cmake) before compiling them.
include_guard(GLOBAL)
set(_ANNEX_BOUNDARY_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/CheckSdkBoundary.cmake")

function(annex_enforce_sdk_boundary target)
  get_target_property(sources ${target} SOURCES)
  get_target_property(source_dir ${target} SOURCE_DIR)
  file(GLOB_RECURSE headers CONFIGURE_DEPENDS "${source_dir}/*.h" "${source_dir}/*.hpp")
  set(files "")
  foreach(s IN LISTS sources headers)
    get_filename_component(abs "${s}" ABSOLUTE BASE_DIR "${source_dir}")
    list(APPEND files "${abs}")
  endforeach()
  get_target_property(libs ${target} LINK_LIBRARIES)
  foreach(lib IN LISTS libs)
    if(lib MATCHES "annex_core")
      message(FATAL_ERROR "${target} links ${lib}: plugins and connectors may link only Annex::sdk")
    endif()
  endforeach()
  set(stamp "${CMAKE_CURRENT_BINARY_DIR}/${target}_boundary.stamp")
  string(REPLACE ";" "|" file_arg "${files}")
  add_custom_command(OUTPUT "${stamp}"
    COMMAND ${CMAKE_COMMAND} "-DFILES=${file_arg}" "-DCORE_DIR=${PROJECT_SOURCE_DIR}/core" "-DTARGET=${target}"
            -P "${_ANNEX_BOUNDARY_SCRIPT}"
    COMMAND ${CMAKE_COMMAND} -E touch "${stamp}"
    DEPENDS ${files} "${_ANNEX_BOUNDARY_SCRIPT}"
    COMMENT "Checking that ${target} uses the SDK only"
    VERBATIM)
  add_custom_target(${target}_boundary DEPENDS "${stamp}")
  add_dependencies(${target} ${target}_boundary)
endfunction()

function(annex_first_party_plugin name)
  annex_add_plugin(${name} ${ARGN} OUTPUT_DIRECTORY "${ANNEX_PLUGIN_OUTPUT_DIR}")
  annex_warnings(${name})
  annex_enforce_sdk_boundary(${name})
  install(TARGETS ${name} LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}/annex/plugins" COMPONENT runtime)
endfunction()
