;;; A saved Lisp application that calls C it never loads:
;;;   prog fact N        prints N! (GMP)
;;;   prog add A B       prints A+B (my_add)
;;;   prog resave FILE   saves itself again as the executable FILE
;;; Built by: sbcl --non-interactive --no-sysinit --no-userinit --load prog.lisp
;;; (it writes ./prog, or the file named by the variable *output* set before).
(load (merge-pathnames "gmp.lisp" *load-truename*))
(defvar *output* "prog")

(defun main ()
  (let ((args (rest sb-ext:*posix-argv*)))
    (handler-case
        (cond ((equal (first args) "fact")
               (format t "~a~%" (fact-string (parse-integer (second args)))))
              ((equal (first args) "add")
               (format t "~a~%" (my-add (parse-integer (second args)) (parse-integer (third args)))))
              ((equal (first args) "resave")
               (sb-ext:save-lisp-and-die (second args) :executable t :toplevel #'main))
              (t (format t "usage: prog fact N | add A B | resave FILE~%") (sb-ext:exit :code 64)))
      (error (e)
        (format t "error: ~a~%" e)
        (finish-output)
        (sb-ext:exit :code 2 :abort t))))
  (finish-output)
  (sb-ext:exit :code 0))

(sb-ext:save-lisp-and-die *output* :executable t :toplevel #'main)
