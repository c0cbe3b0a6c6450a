#!/usr/bin/env bash
# Records the current Ubuntu 24.04 LTS image of a stack's region (AWS) and project (GCP)
# in its stack config, so every later `pulumi up` boots new nodes from exactly that image
# and no newer image ever offers to rebuild a running node. Run it once before the first
# `pulumi up`, and again whenever you want new nodes on a newer image (running nodes keep
# theirs; README, "Pinned images").
#
#   scripts/pin-images.sh STACK            look up and `pulumi config set` the pins
#   scripts/pin-images.sh STACK --print    only print them
#
# Needs the Pulumi CLI, and for each cloud of the stack its CLI logged in: `aws` (AWS) and
# `gcloud` (GCP).
set -euo pipefail

PROJECT=wg-mesh-cluster
AWS_OWNER=099720109477 # Canonical
AWS_NAME='ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*'
GCP_IMAGE_PROJECT=ubuntu-os-cloud
GCP_FAMILY=ubuntu-2404-lts-amd64

usage() {
  echo "usage: $0 STACK [--print]" >&2
  exit 2
}

[[ $# -ge 1 && $# -le 2 ]] || usage
stack=$1
print_only=false
if [[ $# -eq 2 ]]; then
  [[ "$2" == --print ]] || usage
  print_only=true
fi

# config_get KEY: a value of the stack's config (empty when unset).
config_get() {
  pulumi config get --stack "$stack" --path "${PROJECT}:$1" 2>/dev/null || true
}

pin() {
  local key=$1 value=$2
  if [[ "$print_only" == true ]]; then
    printf '%s:%s = %s\n' "$PROJECT" "$key" "$value"
  else
    pulumi config set --stack "$stack" --path "${PROJECT}:${key}" "$value"
    printf 'pinned %s:%s = %s\n' "$PROJECT" "$key" "$value"
  fi
}

found=0
region=$(config_get aws.region)
if [[ -n "$region" ]]; then
  ami=$(aws ec2 describe-images --region "$region" --owners "$AWS_OWNER" \
    --filters "Name=name,Values=${AWS_NAME}" Name=architecture,Values=x86_64 Name=state,Values=available \
    --query 'sort_by(Images, &CreationDate)[-1].ImageId' --output text)
  [[ "$ami" =~ ^ami-[0-9a-f]+$ ]] || {
    echo "$0: no Ubuntu 24.04 AMI found in ${region} (got '${ami}')" >&2
    exit 1
  }
  pin aws.ami "$ami"
  found=1
fi
project=$(config_get gcp.project)
if [[ -n "$project" ]]; then
  image=$(gcloud compute images describe-from-family "$GCP_FAMILY" --project "$GCP_IMAGE_PROJECT" --format 'value(name)')
  [[ "$image" =~ ^[a-z][-a-z0-9]*$ ]] || {
    echo "$0: no image in family ${GCP_IMAGE_PROJECT}/${GCP_FAMILY} (got '${image}')" >&2
    exit 1
  }
  pin gcp.image "projects/${GCP_IMAGE_PROJECT}/global/images/${image}"
  found=1
fi
if [[ "$found" -eq 0 ]]; then
  echo "$0: stack ${stack} has neither ${PROJECT}:aws.region nor ${PROJECT}:gcp.project set" >&2
  exit 1
fi
