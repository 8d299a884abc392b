# The web application (web/): its npm packages installed from the committed lockfile, then built by Vite into
# ${CMAKE_BINARY_DIR}/share/annex/ui — where annexd started from the build tree finds it — and installed to
# share/annex/ui. Needs Node.js 18.19 or later with npm (Debian 12's own do).
option(ANNEX_BUILD_UI "Build the web application (needs Node.js and npm)" ON)
set(ANNEX_UI_OUTPUT_DIR "${CMAKE_BINARY_DIR}/share/annex/ui")

if(ANNEX_BUILD_UI AND EXISTS "${PROJECT_SOURCE_DIR}/web/package.json")
  find_program(ANNEX_NPM npm)
  find_program(ANNEX_NODE node)
  if(NOT ANNEX_NPM OR NOT ANNEX_NODE)
    message(FATAL_ERROR "the web application needs Node.js and npm (scripts/deps.sh installs them), or configure with -DANNEX_BUILD_UI=OFF")
  endif()
  set(web "${PROJECT_SOURCE_DIR}/web")
  file(GLOB_RECURSE ANNEX_UI_SOURCES CONFIGURE_DEPENDS "${web}/src/*" "${web}/public/*")
  set(stamp "${CMAKE_BINARY_DIR}/web-packages.stamp")
  add_custom_command(OUTPUT "${stamp}"
    COMMAND "${ANNEX_NPM}" ci --no-audit --no-fund --loglevel=error
    COMMAND "${CMAKE_COMMAND}" -E touch "${stamp}"
    DEPENDS "${web}/package.json" "${web}/package-lock.json"
    WORKING_DIRECTORY "${web}"
    COMMENT "Installing the web application's npm packages (from package-lock.json)"
    VERBATIM)
  add_custom_command(OUTPUT "${ANNEX_UI_OUTPUT_DIR}/index.html"
    COMMAND "${ANNEX_NPM}" run build --silent -- --outDir "${ANNEX_UI_OUTPUT_DIR}" --emptyOutDir --logLevel warn
    DEPENDS "${stamp}" ${ANNEX_UI_SOURCES} "${web}/index.html" "${web}/vite.config.js"
    WORKING_DIRECTORY "${web}"
    COMMENT "Building the web application"
    VERBATIM)
  add_custom_target(web_ui ALL DEPENDS "${ANNEX_UI_OUTPUT_DIR}/index.html")
  install(DIRECTORY "${ANNEX_UI_OUTPUT_DIR}" DESTINATION "${CMAKE_INSTALL_DATADIR}/annex" COMPONENT runtime)
  set(ANNEX_HAS_UI ON)
else()
  set(ANNEX_HAS_UI OFF)
endif()
