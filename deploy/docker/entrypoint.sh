#!/bin/sh
# The image's entry point, shaped like TF Serving's tf_serving_entrypoint.sh:
#   modelhost serve --port=$GRPC_PORT --rest_api_port=$PORT \
#     --model_name=$MODEL_NAME --model_base_path=$MODEL_BASE_PATH/$MODEL_NAME "$@"
# with two differences: when the arguments name their own model list
# (--model_config_file or --model_base_path; TF Serving ignores its
# --model_base_path then, modelhost refuses both at once) the MODEL_* pair is
# left out; and a first argument that is not a flag runs as a command
# (`docker run IMAGE modelhost models`, `docker run IMAGE sh`).
# MODELHOST_BIN overrides the modelhost command (tests run this script outside the image).
set -eu
bin="${MODELHOST_BIN:-modelhost}"
case "${1:-}" in
  ''|-*) ;;
  *) exec "$@" ;;
esac
for arg in "$@"; do
  case "$arg" in
    --model_config_file|--model_config_file=*|--model_base_path|--model_base_path=*)
      exec $bin serve --port="${GRPC_PORT:-8500}" --rest_api_port="${PORT:-8501}" "$@" ;;
  esac
done
exec $bin serve --port="${GRPC_PORT:-8500}" --rest_api_port="${PORT:-8501}" \
  --model_name="${MODEL_NAME:-model}" --model_base_path="${MODEL_BASE_PATH:-/models}/${MODEL_NAME:-model}" "$@"
