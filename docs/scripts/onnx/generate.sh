#!/usr/bin/env bash
# Regenerates Sources/BSQONNX/onnx-*.pb.swift from onnx-{tensor,type,graph,model}.proto
# (this folder): the messages and fields of ONNX that the exporter writes, with
# the names and numbers of onnx.proto, the schema shipped inside the onnx Python
# package 1.23.2 (kept here as onnx.proto, sha256
# 547214dd049486a4d5ecbae593e9c72d90b5e8d603944b722eff469e0b5a9cc9;
# python/tests/test_onnx.py checks every field against it), with protoc
# from Debian (protobuf-compiler 3.21) and swift-protobuf 1.39.0's plugin:
#
#   git clone https://github.com/apple/swift-protobuf && cd swift-protobuf && git checkout 1.39.0
#   swift build -c release --product protoc-gen-swift
#   PLUGIN=$PWD/.build/release/protoc-gen-swift docs/scripts/onnx/generate.sh
#
# The generated file is committed: neither protoc nor the plugin is needed to build the kit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
: "${PLUGIN:?set PLUGIN to the path of protoc-gen-swift}"
cd "$here"
rm -f "$repo"/Sources/BSQONNX/onnx*.pb.swift
protoc --plugin=protoc-gen-swift="$PLUGIN" --swift_opt=Visibility=Public --swift_out="$repo/Sources/BSQONNX" \
    onnx-tensor.proto onnx-type.proto onnx-graph.proto onnx-model.proto
