#!/bin/sh
# SageMaker starts training containers as `IMAGE train` (and hosting as `IMAGE serve`); processing steps set
# their own entrypoint. Anything else is passed through, so `docker run IMAGE python3 -m ...` works too.
set -e
case "$1" in
  train) shift; exec python3 -m pipeline_steps.train "$@" ;;
  serve) shift; exec python3 -m keel.serving.inference "$@" ;;
  *) exec "$@" ;;
esac
