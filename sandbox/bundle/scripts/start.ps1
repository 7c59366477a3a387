# Start prompt-sandbox, installed before by .\install.ps1, from this folder (Windows PowerShell).
#   .\start.ps1                  http://127.0.0.1:8501 on this computer
#   .\start.ps1 --host 0.0.0.0   for the classroom's network as well
Set-Location -Path $PSScriptRoot
if (Get-Command py -ErrorAction SilentlyContinue) { & py -@PYTHON@ install.py --start @args }
elseif (Get-Command python -ErrorAction SilentlyContinue) { & python install.py --start @args }
else { Write-Error "Python @PYTHON@ is not installed on this computer."; exit 2 }
exit $LASTEXITCODE
