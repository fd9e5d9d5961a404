import Foundation

/// One unfinished multipart upload.
struct S3MultipartUpload {
    let objectKey: String
    let uploadId: String
    let initiated: Int64
}
