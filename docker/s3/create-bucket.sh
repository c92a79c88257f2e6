#!/bin/sh
# Creates the application's bucket on the versitygw S3 gateway, owned by the root account
# that api and worker sign in with. Safe on every start: an existing bucket is left alone.
# Reads ADMIN_ENDPOINT_URL, ADMIN_ACCESS_KEY, ADMIN_SECRET_KEY and S3_BUCKET.
set -eu

: "${S3_BUCKET:?S3_BUCKET is not set}"
gateway=/app/versitygw

# The listing fails, and so does this script, when the gateway rejects the credentials.
buckets=$("$gateway" admin list-buckets)

if printf '%s\n' "$buckets" | awk 'NR > 2 { print $1 }' | grep -qxF "$S3_BUCKET"; then
  echo "Bucket ${S3_BUCKET} already exists"
else
  "$gateway" admin create-bucket --owner "$ADMIN_ACCESS_KEY" --bucket "$S3_BUCKET"
  echo "Created bucket ${S3_BUCKET}"
fi
