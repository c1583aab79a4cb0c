;; An ECL program built by c:build-program (compiled to C, linked with
;; libecl): my_add through the dynamic FFI, looked up when the program runs.
(ffi:def-function ("my_add" my-add) ((a :long) (b :long)) :returning :long :module :default)
(format t "~a~%" (my-add (parse-integer (second ext:*command-args*))
                         (parse-integer (third ext:*command-args*))))
(ext:quit 0)
