;;; C routines this program calls but never loads a library for: GNU MP's
;;; factorial and my_add (tests/t-sbcl.sh builds it from a tiny C file).
;;; The definitions compile without the code being there; a call works
;;; once something in the process exports the symbol (the runtime, after
;;; surgeon add-lib), and raises UNDEFINED-ALIEN-FUNCTION-ERROR until then.
(sb-alien:define-alien-routine ("__gmpz_init" mpz-init) sb-alien:void
  (z sb-sys:system-area-pointer))
(sb-alien:define-alien-routine ("__gmpz_fac_ui" mpz-fac-ui) sb-alien:void
  (z sb-sys:system-area-pointer) (n sb-alien:unsigned-long))
(sb-alien:define-alien-routine ("__gmpz_get_str" mpz-get-str) sb-alien:c-string
  (buf sb-sys:system-area-pointer) (base sb-alien:int) (z sb-sys:system-area-pointer))
(sb-alien:define-alien-routine ("my_add" my-add) sb-alien:long
  (a sb-alien:long) (b sb-alien:long))

;;; n! in decimal, computed by GMP. An mpz_t is 16 bytes; 64 is plenty.
(defun fact-string (n)
  (let ((z (sb-alien:make-alien (sb-alien:unsigned 8) 64)))
    (mpz-init (sb-alien:alien-sap z))
    (mpz-fac-ui (sb-alien:alien-sap z) n)
    (mpz-get-str (sb-sys:int-sap 0) 10 (sb-alien:alien-sap z))))
