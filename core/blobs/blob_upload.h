// The body of an upload route, streamed into the blob store: a raw body, or the one file of a multipart/form-data
// form (Poco's HTMLForm and a PartHandler, the other fields kept as text). Runs after the caller was let in and
// before the route's handler, which finds what was stored in request.upload.
#pragma once

#include "blobs/blob_store.h"
#include "http/router.h"

namespace annex::blobs {

// Reads request.body_stream (or request.body, when there is no stream) to its end and stores the file. Throws
// http::ApiError, having stored nothing: 413 past the route's limit (or the host's, if lower), 415 for a type
// the route does not take or one the bytes belie (a "PDF" without PDF's magic bytes), 422 for an empty file or a
// form without one, 400 for a body that is not a readable form.
void receive_upload(BlobStore& store, http::HttpRequest& request, const http::Route& route);

}  // namespace annex::blobs
