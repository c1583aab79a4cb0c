;;; A CFFI user's library definition: the :canary symbol is looked up in the
;;; running process first; when the runtime exports it (after surgeon
;;; add-lib), CFFI marks the library loaded and opens no shared object.
(require :asdf)
(asdf:load-system :cffi)
(cffi:define-foreign-library (libgmp :canary "__gmpz_init")
  (:unix (:or "libgmp.so.10" "libgmp.so"))
  (t (:default "libgmp")))
(cffi:use-foreign-library libgmp)
(cffi:defcfun ("__gmpz_init" mpz-init) :void (z :pointer))
(cffi:defcfun ("__gmpz_fac_ui" mpz-fac-ui) :void (z :pointer) (n :unsigned-long))
(cffi:defcfun ("__gmpz_get_str" mpz-get-str) :string (buf :pointer) (base :int) (z :pointer))
(cffi:with-foreign-object (z :char 64)
  (mpz-init z)
  (mpz-fac-ui z 30)
  (format t "fact ~a~%" (mpz-get-str (cffi:null-pointer) 10 z)))
;; The file each defined library was opened from: NIL when none was.
(format t "libgmp from ~a~%" (cffi:foreign-library-pathname
                           (find 'libgmp (cffi:list-foreign-libraries) :key #'cffi:foreign-library-name)))
