#!/usr/bin/env bash
# Stand-in for the `aws` CLI at the S3 boundary of the backup and restore scripts: a bucket is a
# directory under $AWS_STUB_DIR, an object a file, its user metadata a JSON file beside it. It
# implements only the four `aws s3api` calls the scripts make, with the CLI's option names, and
# refuses any other option or call (exit 252, as the CLI does for unknown options), so a script that
# drifts from what the stub models fails the test instead of passing silently. Every call is logged
# to $AWS_STUB_DIR/calls.log.
set -euo pipefail

root=${AWS_STUB_DIR:?AWS_STUB_DIR is not set}
printf '%s\n' "$*" >> "$root/calls.log"

usage_error() {
  echo "aws: error: $*" >&2
  exit 252
}
not_found() {
  echo "An error occurred (404) when calling the $1 operation: Not Found" >&2
  exit 254
}

[ "${1:-}" = s3api ] || usage_error "only s3api is modelled (got: ${1:-nothing})"
operation=${2:-}
shift 2

declare -A opt=()
positional=()
while [ "$#" -gt 0 ]; do
  case $1 in
    --bucket | --key | --body | --metadata | --checksum-algorithm | --server-side-encryption | \
      --ssekms-key-id | --output | --query | --prefix | --checksum-mode)
      [ "$#" -ge 2 ] || usage_error "$1 needs a value"
      opt[$1]=$2
      shift 2
      ;;
    --*) usage_error "Unknown options: $1" ;;
    *)
      positional+=("$1")
      shift
      ;;
  esac
done

bucket=${opt[--bucket]:-}
[ -n "$bucket" ] || usage_error "the following arguments are required: --bucket"
dir="$root/$bucket"
mkdir -p "$dir"

# --query 'Metadata.x' / 'Metadata."x"' with --output text: the value, or None when absent.
metadata_query() {
  local file=$1 query=$2 field
  case $query in
    Metadata.\"*\") field=${query#Metadata.\"} field=${field%\"} ;;
    Metadata.*) field=${query#Metadata.} ;;
    *) usage_error "query $query is not modelled" ;;
  esac
  [ "${opt[--output]:-}" = text ] || usage_error "only --output text is modelled for head-object"
  node -e 'const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); const v = m[process.argv[2]]; console.log(v === undefined ? "None" : v);' "$file" "$field"
}

case $operation in
  put-object)
    key=${opt[--key]:?--key is required}
    body=${opt[--body]:?--body is required}
    [ -f "$body" ] || usage_error "Error parsing parameter '--body': Blob values must be a path to a file."
    [ "${opt[--checksum-algorithm]:-SHA256}" = SHA256 ] || usage_error "checksum algorithm not modelled"
    mkdir -p "$(dirname "$dir/$key")"
    cp "$body" "$dir/$key"
    metadata=${opt[--metadata]:-"{}"}
    case $metadata in
      file://*) cp "${metadata#file://}" "$dir/$key.metadata.json" ;;
      *) printf '%s' "$metadata" > "$dir/$key.metadata.json" ;;
    esac
    # S3 lower-cases user metadata keys; the stub checks the JSON parses, as the CLI does.
    node -e 'const fs = require("fs"); const f = process.argv[1]; const m = JSON.parse(fs.readFileSync(f, "utf8")); fs.writeFileSync(f, JSON.stringify(Object.fromEntries(Object.entries(m).map(([k, v]) => [k.toLowerCase(), String(v)]))));' "$dir/$key.metadata.json"
    etag=$(md5sum "$dir/$key" | cut -d " " -f 1)
    if [ "${opt[--query]:-}" = ETag ]; then echo "\"$etag\""; else echo "{\"ETag\": \"\\\"$etag\\\"\"}"; fi
    ;;
  head-object)
    key=${opt[--key]:?--key is required}
    [ -f "$dir/$key" ] || not_found HeadObject
    metadata_query "$dir/$key.metadata.json" "${opt[--query]:?only --query Metadata.<key> is modelled}"
    ;;
  get-object)
    key=${opt[--key]:?--key is required}
    [ "${#positional[@]}" = 1 ] || usage_error "get-object takes one outfile"
    [ -f "$dir/$key" ] || not_found GetObject
    cp "$dir/$key" "${positional[0]}"
    echo "{\"ContentLength\": $(wc -c < "$dir/$key")}"
    ;;
  list-objects-v2)
    [ "${opt[--query]:-}" = 'Contents[].Key' ] && [ "${opt[--output]:-}" = text ] ||
      usage_error "only --query 'Contents[].Key' --output text is modelled"
    prefix=${opt[--prefix]:-}
    keys=$(cd "$dir" && find . -type f ! -name '*.metadata.json' | sed 's|^\./||' | sort |
      while IFS= read -r k; do case $k in "$prefix"*) printf '%s\n' "$k" ;; esac; done)
    # The CLI prints a page's keys tab-separated on one line, and None for an empty listing.
    if [ -z "$keys" ]; then echo None; else printf '%s\n' "$keys" | paste -sd '\t' -; fi
    ;;
  *) usage_error "operation $operation is not modelled" ;;
esac
