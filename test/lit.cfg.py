# -*- Python -*-
# lit configuration of fftconv-mlir.

import os

import lit.formats
from lit.llvm import llvm_config

config.name = "FFTCONV"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test", ".c"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.fftconv_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Integration", "GPU", "Inputs"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(
    ("%mlir_runner_utils", os.path.join(config.llvm_lib_dir, "libmlir_runner_utils.so")))
config.substitutions.append(
    ("%mlir_c_runner_utils", os.path.join(config.llvm_lib_dir, "libmlir_c_runner_utils.so")))
config.substitutions.append(
    ("%mlir_async_runtime", os.path.join(config.llvm_lib_dir, "libmlir_async_runtime.so")))

config.substitutions.append(("%fftconv_obj_root", config.fftconv_obj_root))
config.substitutions.append(("%fftconv_src_root", config.fftconv_src_root))
config.substitutions.append(
    ("%fftconv_plugin", os.path.join(config.fftconv_obj_root, "lib", "FFTConvPlugin.so")))

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

tool_dirs = [config.fftconv_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(
    ["fftconv-opt", "fftconv-compile", "fftconv-cost-table", "fftconv-capi-test", "mlir-runner", "mlir-opt"], tool_dirs)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.fftconv_tools_dir, append_path=True)

# The CUDA toolkit's ptxas assembles the PTX we emit where it is installed;
# tests guard those steps with %if ptxas.
ptxas = os.environ.get("FFTCONV_PTXAS", "/usr/local/cuda/bin/ptxas")
if os.path.exists(ptxas):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))
