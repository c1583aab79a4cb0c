;; CLISP: GMP's n! through foreign functions looked up in the running
;; program ((:library :default): dlsym(RTLD_DEFAULT)), never a libgmp.so.
(ffi:default-foreign-language :stdc)
(ffi:def-call-out mpz-init (:name "__gmpz_init") (:library :default)
  (:arguments (z ffi:c-pointer)) (:return-type nil))
(ffi:def-call-out mpz-fac-ui (:name "__gmpz_fac_ui") (:library :default)
  (:arguments (z ffi:c-pointer) (n ffi:ulong)) (:return-type nil))
(ffi:def-call-out mpz-get-str (:name "__gmpz_get_str") (:library :default)
  (:arguments (s ffi:c-pointer) (base ffi:int) (z ffi:c-pointer)) (:return-type ffi:c-string))
(ffi:with-foreign-object (z '(ffi:c-array ffi:uint8 64))
  (let ((p (ffi:foreign-address z)))
    (mpz-init p)
    (mpz-fac-ui p (parse-integer (or (first ext:*args*) "30")))
    (format t "fact ~a~%" (mpz-get-str nil 10 p))))
