;; ECL on arm64: my_add and my_greet (tests/t-arm64-lisp.sh's C archive)
;; through ECL's dynamic FFI, looked up in the running program.
(ffi:def-function ("my_add" my-add) ((a :long) (b :long)) :returning :long :module :default)
(ffi:def-function ("my_greet" my-greet) () :returning :cstring :module :default)
(format t "sum ~a~%greet ~a~%" (my-add 2 40) (my-greet))
