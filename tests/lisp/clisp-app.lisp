;; A CLISP application saved with (ext:saveinitmem ... :executable t).
;; `add' declares my_add when it runs, not when the image is built, so an
;; image saved by the stock runtime finds the function once add-lib has put
;; it in the executable ((:library :default): dlsym(RTLD_DEFAULT)).
(defun main ()
  (let ((args ext:*args*))
    (cond ((equal (first args) "add")
           (eval '(ffi:def-call-out my-add (:name "my_add") (:library :default)
                   (:language :stdc) (:arguments (a ffi:long) (b ffi:long))
                   (:return-type ffi:long)))
           (format t "~a~%" (funcall 'my-add (parse-integer (second args))
                                     (parse-integer (third args)))))
          ((equal (first args) "resave")
           (ext:saveinitmem (second args) :init-function #'main :executable t :quiet t))
          (t (format t "usage: add A B | resave FILE~%"))))
  (ext:quit 0))
